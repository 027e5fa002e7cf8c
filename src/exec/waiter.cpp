// Waiter: the thread's scheduler, if any, and waiting without one.
#include "exec/waiter.hpp"

namespace statenet::detail {

namespace {

thread_local Waiter* thread_waiter = nullptr;

}  // namespace

Waiter* Waiter::current() noexcept { return thread_waiter; }

Waiter* Waiter::install(Waiter* waiter) noexcept {
    Waiter* previous = thread_waiter;
    thread_waiter = waiter;
    return previous;
}

void wait_for(const std::function<bool()>& ready, Poller& poller) {
    if (Waiter* waiter = Waiter::current()) return waiter->wait_until(ready, poller);
    while (!ready()) poller.poll(100);
}

}  // namespace statenet::detail
