// TickClock: the counter's rate, measured against steady_clock and refined over longer and longer spans.
#include "exec/tick_clock.hpp"

#include <array>
#include <atomic>
#include <cstdint>
#include <fstream>
#include <mutex>
#include <string>

#if defined(__x86_64__) || defined(__i386__)
#include <x86intrin.h>
#define STATENET_TICKS 1
#endif

namespace statenet::detail {

namespace {

std::int64_t steady_ns() noexcept {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

#ifdef STATENET_TICKS

struct State {
    bool counter = false;
    std::uint64_t origin_tsc = 0;  // the first reading of both clocks: rates span from here
    std::int64_t origin_ns = 0;
    std::array<TickCalibration, 8> calibrations;  // each made once, never changed: readers need no lock
    std::atomic<const TickCalibration*> current{nullptr};
    std::size_t used = 0;
    std::mutex refining;
};

bool kernel_keeps_time_with_tsc() {
    std::ifstream in("/sys/devices/system/clocksource/clocksource0/current_clocksource");
    std::string source;
    return in >> source && source == "tsc";
}

State& state() {
    static State* s = [] {
        auto* made = new State;  // never freed: other threads' clocks read it until exit
        made->counter = kernel_keeps_time_with_tsc();
        if (!made->counter) return made;
        made->origin_tsc = __rdtsc();
        made->origin_ns = steady_ns();
        // The first rate, from a 50 µs span.
        std::int64_t ns = made->origin_ns;
        std::uint64_t tsc = made->origin_tsc;
        while (ns - made->origin_ns < 50'000) {
            ns = steady_ns();
            tsc = __rdtsc();
        }
        TickCalibration& first = made->calibrations[made->used++];
        first.tsc = tsc;
        first.ns = ns;
        first.ns_per_tick = static_cast<double>(ns - made->origin_ns) / static_cast<double>(tsc - made->origin_tsc);
        first.next = tsc + 20 * (tsc - made->origin_tsc);  // ~1 ms on
        made->current.store(&first, std::memory_order_release);
        return made;
    }();
    return *s;
}

/// A longer span gives a better rate: each refinement waits 16 times as long as the
/// last. The new rate starts where the old one ends, so the clock never jumps.
void refine(State& s, const TickCalibration& old) noexcept {
    std::unique_lock lock(s.refining, std::try_to_lock);
    // Another thread does it. (The last calibration's `next` is never reached: no
    // refinement runs past the array.)
    if (!lock || s.current.load(std::memory_order_acquire) != &old) return;
    const std::int64_t ns = steady_ns();
    const std::uint64_t now = __rdtsc();
    TickCalibration& c = s.calibrations[s.used++];
    c.tsc = now;
    c.ns = old.ns_at(now);
    c.ns_per_tick = static_cast<double>(ns - s.origin_ns) / static_cast<double>(now - s.origin_tsc);
    c.next = s.used == s.calibrations.size() ? UINT64_MAX : now + 15 * (now - s.origin_tsc);
    s.current.store(&c, std::memory_order_release);
}

#endif

}  // namespace

TickClock::time_point TickClock::first_or_refined_now() noexcept {
#ifdef STATENET_TICKS
    State& s = state();
    if (s.counter) {
        const std::uint64_t tsc = __rdtsc();
        const TickCalibration* c = s.current.load(std::memory_order_acquire);
        if (tsc >= c->next) refine(s, *c);
        // Publishes the rate for the inline path (a stale one it may overwrite has
        // passed its `next`, so the inline path sends its readers back here).
        current_.store(s.current.load(std::memory_order_acquire), std::memory_order_release);
        return time_point(duration(c->ns_at(tsc)));
    }
#endif
    return time_point(duration(steady_ns()));
}

bool TickClock::counter() noexcept {
#ifdef STATENET_TICKS
    return state().counter;
#else
    return false;
#endif
}

}  // namespace statenet::detail
