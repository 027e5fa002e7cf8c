// ActionPool: the worker threads that run machine actions (ctx.start_action) outside
// the events that start them, each on a Lua VM of its own.
#pragma once

#include <statenet/result.hpp>
#include <statenet/value.hpp>
#include <statenet/workflow.hpp>

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace statenet::detail {

/// One action to run: the store's seq, the instance that started it, the action's
/// name and its arguments (JSON).
struct ActionJob {
    std::int64_t seq = 0;
    std::string instance, name, args_json;
};

/// How an action's function ended: its return value, or the error it raised.
struct ActionOutcome {
    bool ok = false;
    Value result;
    ErrorInfo error;
};

/// Told on the worker's thread when an action's function has returned or failed.
using ActionFinished = std::function<void(const ActionJob&, ActionOutcome)>;

/// Thread-safe. Destroying it stops the workers: actions running finish (and are told),
/// queued ones are dropped (they stay open in the store and run again on recovery).
class ActionPool {
public:
    ActionPool(const Workflow& workflow, std::size_t workers, ActionFinished finished);
    ~ActionPool();
    ActionPool(const ActionPool&) = delete;
    ActionPool& operator=(const ActionPool&) = delete;

    /// A reloaded workflow: each worker loads it before its next action.
    void use(const Workflow& workflow);
    void submit(std::vector<ActionJob> jobs);
    /// The action is queued or running here.
    bool has(std::int64_t seq);

private:
    ActionFinished finished_;
    std::mutex mutex_;
    std::condition_variable ready_;
    std::deque<ActionJob> queue_;
    std::set<std::int64_t> here_;  // queued or running
    Workflow workflow_;
    std::uint64_t generation_ = 0;  // bumped by use()
    bool stop_ = false;
    std::vector<std::thread> threads_;

    void work();
};

}  // namespace statenet::detail
