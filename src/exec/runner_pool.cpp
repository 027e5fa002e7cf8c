// RunnerPool: idle runners handed out to threads and taken back.
#include "exec/runner_pool.hpp"

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

RunnerPool::RunnerPool(std::shared_ptr<const Model> model, std::shared_ptr<EngineImpl> engine, Factory make)
    : model_(std::move(model)), engine_(std::move(engine)), make_(std::move(make)) {}

std::unique_ptr<Runner> RunnerPool::acquire() {
    {
        std::lock_guard lock(mutex_);
        if (!idle_.empty()) {
            auto runner = std::move(idle_.back());
            idle_.pop_back();
            return runner;
        }
    }
    return make_();
}

void RunnerPool::add_idle(std::unique_ptr<Runner> runner) {
    std::lock_guard lock(mutex_);
    idle_.push_back(std::move(runner));
}

void RunnerPool::release(std::unique_ptr<Runner> runner) {
    {
        std::lock_guard lock(mutex_);
        if (!retired_) {
            idle_.push_back(std::move(runner));
            return;
        }
    }
    drop_runner(std::move(runner), *engine_);
}

void RunnerPool::retire() {
    std::vector<std::unique_ptr<Runner>> dropped;
    {
        std::lock_guard lock(mutex_);
        retired_ = true;
        dropped.swap(idle_);
    }
    for (auto& runner : dropped) drop_runner(std::move(runner), *engine_);
}

std::string RunnerPool::flush_idle() {
    std::string errors;
    std::lock_guard lock(mutex_);
    for (auto& runner : idle_)
        if (auto error = runner->flush()) errors += (errors.empty() ? "" : "; ") + *error;
    return errors;
}

}  // namespace statenet::detail
