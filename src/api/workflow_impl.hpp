// WorkflowImpl: a Workflow handle's running version, swapped by hot reload.
#pragma once

#include "api/workflow_version.hpp"

#include <statenet/engine.hpp>

#include <memory>
#include <mutex>
#include <optional>
#include <vector>

namespace statenet::detail {

/// What reloading a workflow needs: the file it was loaded from and how.
struct ReloadSource {
    std::filesystem::path file;
    LoadOptions options;
};

struct WorkflowImpl final : Reloadable {
    std::shared_ptr<EngineImpl> engine;

    explicit WorkflowImpl(std::shared_ptr<WorkflowVersion> first);

    /// The running version; a caller keeps the one it got for as long as it holds it.
    std::shared_ptr<WorkflowVersion> current() const;
    std::shared_ptr<const Model> model() const { return current()->model; }
    /// The running version's runners.
    std::shared_ptr<RunnerPool> runners() const { return current()->runners; }
    /// The model whose strings name()/version()/file() hand out; every version's model
    /// is kept, so those references stay valid for the workflow's lifetime.
    const Model& named_model() const;

    /// Makes Engine::reload() re-read `source` (Engine::load registers every workflow).
    void reload_from(ReloadSource source);
    /// Not reloadable any more (a machine set reloads its own workflow).
    void stop_reloading();
    /// Loads the file again; on success new records run on the new version.
    ReloadReport reload() override;

private:
    mutable std::mutex mutex_;  // guards current_, models_ and source_
    std::shared_ptr<WorkflowVersion> current_;
    std::vector<std::shared_ptr<const Model>> models_;
    std::optional<ReloadSource> source_;
    std::mutex reload_mutex_;  // one reload at a time
};

}  // namespace statenet::detail
