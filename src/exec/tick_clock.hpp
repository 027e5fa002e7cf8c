// TickClock: a steady clock read from the CPU's time-stamp counter, for the durations a run and its steps record.
#pragma once

#include <chrono>

namespace statenet::detail {

/// Nanoseconds like std::chrono::steady_clock, read from the time-stamp counter
/// (~8 ns) instead of clock_gettime (~18 ns on this kind of machine): history reads the
/// clock at each run's start and end and at each step's end. The counter's rate is
/// measured against steady_clock on first use (50 µs) and refined as the process runs.
/// Used only where the kernel itself keeps time with the counter (its clocksource is
/// `tsc`); elsewhere it is steady_clock.
struct TickClock {
    using duration = std::chrono::nanoseconds;
    using rep = duration::rep;
    using period = duration::period;
    using time_point = std::chrono::time_point<TickClock>;
    static constexpr bool is_steady = true;

    static time_point now() noexcept;
    /// Whether now() reads the counter (false: it reads steady_clock).
    static bool counter() noexcept;
};

}  // namespace statenet::detail
