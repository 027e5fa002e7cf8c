// WorkflowImpl: a loaded model plus a pool of runners (one Lua VM each).
#pragma once

#include "exec/runner.hpp"
#include "exec/services.hpp"
#include "history/writer.hpp"
#include "model/model.hpp"

#include <memory>
#include <mutex>
#include <vector>

namespace statenet::detail {

struct WorkflowImpl {
    std::shared_ptr<const Model> model;
    std::shared_ptr<EngineImpl> engine;
    std::shared_ptr<ResourcePools> pools;
    /// Null when history is off; declared before the runners, which record into it.
    std::shared_ptr<HistoryWriter> history;

    /// A runner for the calling thread: an idle one, or a new VM.
    std::unique_ptr<Runner> acquire();
    void release(std::unique_ptr<Runner> runner);

    std::mutex mutex;
    std::vector<std::unique_ptr<Runner>> idle;
};

/// A runner borrowed from the pool for as long as it lives; returned however the use ends.
class RunnerLease {
public:
    explicit RunnerLease(WorkflowImpl& impl) : impl_(impl), runner_(impl.acquire()) {}
    ~RunnerLease() { impl_.release(std::move(runner_)); }
    RunnerLease(const RunnerLease&) = delete;
    RunnerLease& operator=(const RunnerLease&) = delete;
    Runner* operator->() const { return runner_.get(); }
    Runner& operator*() const { return *runner_; }

private:
    WorkflowImpl& impl_;
    std::unique_ptr<Runner> runner_;
};

/// Reads and checks a workflow (file contents in `text`); on success returns the
/// workflow with its first runner, else fills `diags`.
std::shared_ptr<WorkflowImpl> load_workflow(const std::shared_ptr<EngineImpl>& engine, std::string_view text,
                                            const std::filesystem::path& file, const LoadOptions& options,
                                            Diagnostics& diags);

}  // namespace statenet::detail
