// Waiter: how a record that waits on the network lets other records run. A network
// resource's Lua call looks synchronous; underneath it starts its I/O, then waits here.
// With an in-flight scheduler on the thread (src/exec/in_flight.hpp) the record's fiber
// yields and the worker runs other records; without one the call polls its own I/O.
#pragma once

#include <functional>

namespace statenet::detail {

/// Something that makes progress on pending I/O when asked: a curl multi handle, a
/// libpq connection. poll() waits at most `timeout_ms` for I/O and handles what is ready.
class Poller {
public:
    virtual ~Poller() = default;
    virtual void poll(int timeout_ms) = 0;
};

class Waiter {
public:
    virtual ~Waiter() = default;

    /// The calling thread's waiter, or null when no scheduler runs on it.
    static Waiter* current() noexcept;

    /// Returns once `ready()` is true. A scheduler suspends the calling record and runs
    /// others meanwhile, polling `poller` while every record waits. Never call it from
    /// code that holds a lock another record on this thread may need.
    virtual void wait_until(const std::function<bool()>& ready, Poller& poller) = 0;

protected:
    /// Installs `waiter` as the calling thread's (null removes it); returns the previous.
    static Waiter* install(Waiter* waiter) noexcept;
};

/// Waits for `ready()` on the thread's waiter, or, without one, by polling `poller`
/// itself: the one call a network resource makes to wait.
void wait_for(const std::function<bool()>& ready, Poller& poller);

}  // namespace statenet::detail
