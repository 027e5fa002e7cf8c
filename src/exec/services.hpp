// What an Engine shares with every workflow and runner it creates.
#pragma once

#include <statenet/engine.hpp>

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace statenet::detail {

/// What Engine::reload() reloads (workflows loaded from files, machine sets).
struct Reloadable {
    virtual ~Reloadable() = default;
    virtual ReloadReport reload() = 0;
};

struct EngineImpl {
    EngineOptions options;
    std::string stdlib_dir;
    std::shared_ptr<Clock> clock;
    std::function<void(const LogRecord&)> log;
    std::atomic<std::uint64_t> runner_seq{0};
    std::mutex reload_mutex;
    std::vector<std::weak_ptr<Reloadable>> reloadables;
    /// Host item readers for map states, by type (Engine::add_item_reader).
    std::mutex readers_mutex;
    std::map<std::string, ItemReaderFactory, std::less<>> item_readers;

    explicit EngineImpl(EngineOptions opts);
};

/// The stdlib directory: explicit, else $STATENET_STDLIB, else the first of
/// stdlib_dirs() that holds the runtime.
std::string find_stdlib(const std::filesystem::path& explicit_dir);
/// Where a library looks for its stdlib: the installed one first, then, when built with
/// -Duninstalled_stdlib=true (the default), the source tree's, for runs before install.
std::vector<std::filesystem::path> stdlib_dirs();
/// The first of `dirs` holding statenet/runtime.lua; the first of them when none does
/// (so the load error names the installed path). `dirs` is not empty.
std::string first_stdlib(const std::vector<std::filesystem::path>& dirs);

}  // namespace statenet::detail
