// WorkflowImpl: the running version's runner pool, and hot reload swapping in a new version.
#include "api/workflow_impl.hpp"

#include "api/assembly.hpp"

#include <utility>

namespace statenet::detail {

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
    old->runners->retire();
    return report;
}

}  // namespace statenet::detail
