// Engine: loads workflows and holds the services they share (clock, log, stdlib).
#include "api/assembly.hpp"
#include "api/workflow_impl.hpp"
#include "exec/item_readers.hpp"
#include "exec/services.hpp"
#include "statenet_config.hpp"

#include <statenet/engine.hpp>

#include <fmt/format.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <thread>

namespace statenet {

Clock::~Clock() = default;

namespace {

class SteadyClock final : public Clock {
public:
    double now_ms() override {
        using namespace std::chrono;
        return duration<double, std::milli>(steady_clock::now().time_since_epoch()).count();
    }
    void sleep_ms(double ms) override { std::this_thread::sleep_for(std::chrono::duration<double, std::milli>(ms)); }
};

std::string_view level_name(LogLevel level) {
    switch (level) {
    case LogLevel::debug: return "debug";
    case LogLevel::info: return "info";
    case LogLevel::warn: return "warn";
    case LogLevel::error: return "error";
    }
    return "info";
}

void log_to_stderr(const LogRecord& r) {
    // Engine messages (not from a state's function) carry no state.
    std::string line = r.state.empty() ? fmt::format("statenet: {}: {}", level_name(r.level), r.message)
                                       : fmt::format("statenet: {}: {}: {}", level_name(r.level), r.state, r.message);
    if (r.fields.size() > 0) line += " " + r.fields.to_json();
    line += '\n';
    std::fwrite(line.data(), 1, line.size(), stderr);
}

}  // namespace

std::shared_ptr<Clock> system_clock() {
    static auto clock = std::make_shared<SteadyClock>();
    return clock;
}

std::string_view version() noexcept { return STATENET_VERSION; }

namespace detail {

std::string find_stdlib(const std::filesystem::path& explicit_dir) {
    if (!explicit_dir.empty()) return explicit_dir.string();
    if (const char* env = std::getenv("STATENET_STDLIB"); env && *env) return env;
    std::error_code ec;
    for (const char* dir : {STATENET_STDLIB_SOURCE_DIR, STATENET_STDLIB_INSTALL_DIR})
        if (std::filesystem::exists(std::filesystem::path(dir) / "statenet" / "runtime.lua", ec)) return dir;
    return STATENET_STDLIB_INSTALL_DIR;
}

EngineImpl::EngineImpl(EngineOptions opts) : options(std::move(opts)) {
    stdlib_dir = find_stdlib(options.stdlib_dir);
    clock = options.clock ? options.clock : system_clock();
    log = options.log ? options.log : log_to_stderr;
}

}  // namespace detail

Engine::Engine(EngineOptions options) : impl_(std::make_shared<detail::EngineImpl>(std::move(options))) {}

Engine::~Engine() = default;

ItemReader::~ItemReader() = default;

void Engine::add_item_reader(std::string type, ItemReaderFactory factory) {
    if (detail::builtin_item_reader(type))
        throw std::invalid_argument("item reader type '" + type + "' is built in and cannot be replaced");
    std::lock_guard lock(impl_->readers_mutex);
    impl_->item_readers[std::move(type)] = std::move(factory);
}

namespace {

std::shared_ptr<detail::WorkflowImpl> load_or_throw(const std::shared_ptr<detail::EngineImpl>& engine,
                                                    std::string_view text, const std::filesystem::path& file,
                                                    const LoadOptions& options) {
    detail::Diagnostics diags;
    auto impl = detail::load_workflow(engine, text, file, options, diags);
    if (!impl) throw LoadError(std::move(diags.list));
    return impl;
}

}  // namespace

Workflow Engine::load(const std::filesystem::path& file, const LoadOptions& options) {
    auto impl = load_or_throw(impl_, detail::read_workflow_file(file), file, options);
    // Loaded from a file: Engine::reload() reads it again.
    impl->reload_from(detail::ReloadSource{file, options});
    std::lock_guard lock(impl_->reload_mutex);
    std::erase_if(impl_->reloadables, [](const auto& weak) { return weak.expired(); });
    impl_->reloadables.push_back(impl);
    return Workflow(std::move(impl));
}

Workflow Engine::load_string(std::string_view text, const std::filesystem::path& name, const LoadOptions& options) {
    // A Lua workflow is a chunk that every worker VM runs from its file.
    if (name.extension() == ".lua" && detail::read_workflow_file(name) != text)
        throw LoadError({Diagnostic{name.string(), 0, 0,
                                    "load_string takes TOML text; load a Lua workflow from its file with load()"}});
    return Workflow(load_or_throw(impl_, text, name, options));
}

std::vector<Diagnostic> Engine::check(const std::filesystem::path& file, const LoadOptions& options) {
    try {
        load(file, options);
    } catch (const LoadError& e) {
        return e.diagnostics();
    }
    return {};
}

ReloadReport Engine::reload() {
    std::vector<std::shared_ptr<detail::Reloadable>> live;
    {
        std::lock_guard lock(impl_->reload_mutex);
        auto& list = impl_->reloadables;
        std::erase_if(list, [](const auto& weak) { return weak.expired(); });
        for (const auto& weak : list)
            if (auto strong = weak.lock()) live.push_back(std::move(strong));
    }
    ReloadReport report;
    for (const auto& target : live) {
        ReloadReport one = target->reload();
        report.ok = report.ok && one.ok;
        report.errors.insert(report.errors.end(), one.errors.begin(), one.errors.end());
        report.orphaned.insert(report.orphaned.end(), one.orphaned.begin(), one.orphaned.end());
    }
    return report;
}

}  // namespace statenet
