// InFlight: many records in progress on one worker thread while they wait on network
// resources. Each record runs on a fiber with a runner (a Lua VM) of its own; a fiber
// whose record waits (detail::wait_for) yields, and the thread runs another. Nothing
// else yields: Lua code, SQLite and every engine step run to completion on their fiber.
#pragma once

#include "exec/runner_pool.hpp"
#include "exec/waiter.hpp"

#include <cstddef>
#include <exception>
#include <functional>
#include <memory>
#include <vector>

namespace statenet::detail {

/// One per worker thread; not thread-safe (installs itself as the thread's Waiter
/// while it runs records). Run inside another InFlight's fiber (a record's parallel
/// branches or map items), it waits through that one while all its fibers wait.
class InFlight final : public Waiter {
public:
    using Work = std::function<void(std::size_t index, Runner& runner)>;

    /// Up to `slots` records in flight; runners are leased from `runners` as fibers are
    /// first needed and returned when this is destroyed.
    InFlight(std::shared_ptr<RunnerPool> runners, unsigned slots);
    ~InFlight() override;
    InFlight(const InFlight&) = delete;
    InFlight& operator=(const InFlight&) = delete;

    /// Calls work(i, runner) for every i in [0, count), several in flight at once, and
    /// returns when all are done. The first exception thrown by `work` is rethrown then.
    void run(std::size_t count, const Work& work);

    /// Commits every runner's open batch transaction; the errors, "; "-joined, or empty.
    std::string flush();

    void wait_until(const std::function<bool()>& ready, Poller& poller) override;

private:
    struct Fiber;
    std::shared_ptr<RunnerPool> runners_;
    unsigned slots_;
    std::vector<std::unique_ptr<Fiber>> fibers_;
    Fiber* running_ = nullptr;  // null while the scheduler itself runs
    struct Scheduler;
    std::unique_ptr<Scheduler> scheduler_;
    // The current run() call's work.
    const Work* work_ = nullptr;
    std::size_t count_ = 0, next_ = 0;
    std::exception_ptr failure_;

    Fiber& fiber(std::size_t k);
    void resume(Fiber& f);
    static void fiber_main();
    void serve(Fiber& f);
    struct Nested;
    bool any_ready(std::size_t used) const;
    void poll_waiting(int max_ms);
};

/// How many records a worker keeps in flight for a workflow: `in_flight` (stream option,
/// else the workflow's key, else 64 — or, when postgres is the only kind that yields, the
/// smallest postgres `pool`) when it uses a resource whose calls yield (http, llm,
/// postgres), else 1.
unsigned in_flight_slots(const Model& model, unsigned requested);

}  // namespace statenet::detail
