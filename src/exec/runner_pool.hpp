// RunnerPool: the idle runners (one Lua VM each) of one workflow version, and the lease
// that borrows one for as long as it lives.
#pragma once

#include "exec/runner.hpp"

#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace statenet::detail {

/// Thread-safe. New runners come from the factory the assembly gives (which wires the
/// version's observers into them); the pool knows nothing of history or reload.
class RunnerPool {
public:
    using Factory = std::function<std::unique_ptr<Runner>()>;

    RunnerPool(std::shared_ptr<const Model> model, std::shared_ptr<EngineImpl> engine, Factory make);

    const Model& model() const noexcept { return *model_; }
    const std::shared_ptr<const Model>& model_ptr() const noexcept { return model_; }

    /// A runner for the calling thread: an idle one, or a new VM (throws LoadError when
    /// the workflow's functions no longer resolve).
    std::unique_ptr<Runner> acquire();
    /// Back to the pool; a retired pool's runner commits its open batch and is dropped.
    void release(std::unique_ptr<Runner> runner);
    /// Adds a runner made elsewhere (the one assembly resolved the functions with).
    void add_idle(std::unique_ptr<Runner> runner);
    /// Stops pooling: commits and drops the idle runners (busy ones follow on release).
    void retire();
    /// Commits every idle runner's open batch; the errors joined by "; ", or empty.
    std::string flush_idle();

private:
    std::shared_ptr<const Model> model_;
    std::shared_ptr<EngineImpl> engine_;
    Factory make_;
    std::mutex mutex_;
    std::vector<std::unique_ptr<Runner>> idle_;
    bool retired_ = false;
};

/// A runner borrowed from a pool for as long as it lives; returned however the use
/// ends. Holding the pool keeps a long run (a stream) on the version it began with.
class RunnerLease {
public:
    explicit RunnerLease(std::shared_ptr<RunnerPool> pool) : pool_(std::move(pool)), runner_(pool_->acquire()) {}
    ~RunnerLease() { pool_->release(std::move(runner_)); }
    RunnerLease(const RunnerLease&) = delete;
    RunnerLease& operator=(const RunnerLease&) = delete;
    Runner* operator->() const { return runner_.get(); }
    Runner& operator*() const { return *runner_; }

private:
    std::shared_ptr<RunnerPool> pool_;
    std::unique_ptr<Runner> runner_;
};

}  // namespace statenet::detail
