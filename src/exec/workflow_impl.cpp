// WorkflowImpl: the running version's runner pool, and hot reload swapping in a new version.
#include "exec/workflow_impl.hpp"

#include <utility>

namespace statenet::detail {

namespace {

/// Commits a runner's open batch before it is dropped; a failure is logged.
void drop_runner(std::unique_ptr<Runner> runner, const EngineImpl& engine) {
    auto error = runner->flush();
    if (!error || !engine.log) return;
    static const Value no_fields = Value::object();
    const std::string message = "batch transaction commit failed while retiring a reloaded version: " + *error;
    engine.log(LogRecord{LogLevel::error, "", message, no_fields});
}

}  // namespace

std::unique_ptr<Runner> WorkflowVersion::acquire() {
    {
        std::lock_guard lock(mutex);
        if (!idle.empty()) {
            auto runner = std::move(idle.back());
            idle.pop_back();
            return runner;
        }
    }
    Diagnostics diags;
    auto runner = std::make_unique<Runner>(model, engine, pools, diags);
    if (!diags.empty()) throw LoadError(std::move(diags.list));
    if (history) runner->set_observer(history->recorder());
    return runner;
}

void WorkflowVersion::release(std::unique_ptr<Runner> runner) {
    {
        std::lock_guard lock(mutex);
        if (!retired) {
            idle.push_back(std::move(runner));
            return;
        }
    }
    drop_runner(std::move(runner), *engine);
}

void WorkflowVersion::retire() {
    std::vector<std::unique_ptr<Runner>> dropped;
    {
        std::lock_guard lock(mutex);
        retired = true;
        dropped.swap(idle);
    }
    for (auto& runner : dropped) drop_runner(std::move(runner), *engine);
}

WorkflowImpl::WorkflowImpl(std::shared_ptr<WorkflowVersion> first)
    : engine(first->engine), current_(std::move(first)), models_{current_->model} {}

std::shared_ptr<WorkflowVersion> WorkflowImpl::current() const {
    std::lock_guard lock(mutex_);
    return current_;
}

const Model& WorkflowImpl::named_model() const {
    std::lock_guard lock(mutex_);
    return *models_.back();
}

void WorkflowImpl::reload_from(ReloadSource source) {
    std::lock_guard lock(mutex_);
    source_ = std::move(source);
}

void WorkflowImpl::stop_reloading() {
    std::lock_guard lock(mutex_);
    source_.reset();
}

ReloadReport WorkflowImpl::reload() {
    std::lock_guard serial(reload_mutex_);
    std::optional<ReloadSource> source;
    {
        std::lock_guard lock(mutex_);
        source = source_;
    }
    ReloadReport report;
    if (!source) return report;
    Diagnostics diags;
    std::shared_ptr<WorkflowVersion> loaded;
    try {
        loaded = load_version(engine, read_workflow_file(source->file), source->file, source->options, diags);
    } catch (const LoadError& e) {
        diags.list = e.diagnostics();
    }
    if (!loaded) {
        report.ok = false;
        report.errors = std::move(diags.list);
        if (report.errors.empty())
            report.errors.push_back(Diagnostic{source->file.string(), 0, 0, "the workflow has no networks"});
        return report;
    }
    std::shared_ptr<WorkflowVersion> old;
    {
        std::lock_guard lock(mutex_);
        old = std::exchange(current_, loaded);
        models_.push_back(loaded->model);
    }
    old->retire();
    return report;
}

}  // namespace statenet::detail
