// TickClock: a steady clock read from the CPU's time-stamp counter, for the durations a run and its steps record.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>

namespace statenet::detail {

/// ns(tsc) = ns + (tsc - tsc0) * ns_per_tick, until the counter reaches `next`.
struct TickCalibration {
    std::uint64_t tsc = 0;
    std::int64_t ns = 0;
    double ns_per_tick = 0;
    std::uint64_t next = 0;

    std::int64_t ns_at(std::uint64_t at) const noexcept {
        return ns + static_cast<std::int64_t>(static_cast<double>(static_cast<std::int64_t>(at - tsc)) * ns_per_tick);
    }
};

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

    /// Inline: a run reads it twice, and a call costs as much as the reading.
    static time_point now() noexcept {
#if defined(__x86_64__) || defined(__i386__)
        if (const TickCalibration* c = current_.load(std::memory_order_acquire)) {
            const std::uint64_t tsc = __builtin_ia32_rdtsc();
            if (tsc < c->next) return time_point(duration(c->ns_at(tsc)));
        }
#endif
        return first_or_refined_now();
    }
    /// Whether now() reads the counter (false: it reads steady_clock).
    static bool counter() noexcept;

private:
    /// The rate in use (calibrations are made once and never change: readers need no
    /// lock); null before the first reading and where the counter is not used.
    static inline std::atomic<const TickCalibration*> current_{nullptr};
    /// now() where the inline path does not serve: the first reading (it calibrates),
    /// a refinement due, or steady_clock.
    static time_point first_or_refined_now() noexcept;
};

}  // namespace statenet::detail
