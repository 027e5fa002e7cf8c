// WorkflowImpl: the running version of a workflow (model, pools, runners), swapped by hot reload.
#pragma once

#include "exec/runner.hpp"
#include "exec/services.hpp"
#include "history/writer.hpp"
#include "model/model.hpp"

#include <statenet/engine.hpp>

#include <memory>
#include <mutex>
#include <optional>
#include <vector>

namespace statenet::detail {

/// One loaded version of a workflow: its model, resource pools, history writer and
/// idle runners (one Lua VM each). Hot reload replaces the whole version.
struct WorkflowVersion {
    std::shared_ptr<const Model> model;
    std::shared_ptr<EngineImpl> engine;
    std::shared_ptr<ResourcePools> pools;
    /// Null when history is off; declared before the runners, which record into it.
    std::shared_ptr<HistoryWriter> history;

    /// A runner for the calling thread: an idle one, or a new VM.
    std::unique_ptr<Runner> acquire();
    /// Back to the pool; a retired version's runner commits its open batch and is dropped.
    void release(std::unique_ptr<Runner> runner);
    /// Stops pooling: commits and drops the idle runners (busy ones follow on release).
    void retire();

    std::mutex mutex;
    std::vector<std::unique_ptr<Runner>> idle;
    bool retired = false;
};

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

/// A runner borrowed from a version's pool for as long as it lives; returned however
/// the use ends. Taking a version keeps a long run (a stream) on the version it began with.
class RunnerLease {
public:
    explicit RunnerLease(const WorkflowImpl& impl) : RunnerLease(impl.current()) {}
    explicit RunnerLease(std::shared_ptr<WorkflowVersion> version)
        : version_(std::move(version)), runner_(version_->acquire()) {}
    ~RunnerLease() { version_->release(std::move(runner_)); }
    RunnerLease(const RunnerLease&) = delete;
    RunnerLease& operator=(const RunnerLease&) = delete;
    Runner* operator->() const { return runner_.get(); }
    Runner& operator*() const { return *runner_; }

private:
    std::shared_ptr<WorkflowVersion> version_;
    std::unique_ptr<Runner> runner_;
};

/// The text of a workflow file; throws LoadError when it cannot be read.
std::string read_workflow_file(const std::filesystem::path& file);

/// Reads and checks a workflow (file contents in `text`); on success returns the
/// version with its first runner, else fills `diags`.
std::shared_ptr<WorkflowVersion> load_version(const std::shared_ptr<EngineImpl>& engine, std::string_view text,
                                              const std::filesystem::path& file, const LoadOptions& options,
                                              Diagnostics& diags);

/// load_version wrapped in a (not yet reloadable) workflow; null when it fails.
std::shared_ptr<WorkflowImpl> load_workflow(const std::shared_ptr<EngineImpl>& engine, std::string_view text,
                                            const std::filesystem::path& file, const LoadOptions& options,
                                            Diagnostics& diags);

}  // namespace statenet::detail
