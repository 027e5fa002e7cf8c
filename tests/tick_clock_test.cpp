// TickClock, the clock history times runs and steps with: keeps pace with steady_clock, never goes back.
#include "exec/tick_clock.hpp"

#include <doctest/doctest.h>

#include <chrono>
#include <thread>

using statenet::detail::TickClock;

TEST_CASE("tick clock - never goes back, also across its refinements") {
    auto last = TickClock::now();
    const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(30);  // past the first refinements
    long calls = 0, backwards = 0;
    while (std::chrono::steady_clock::now() < until) {
        const auto now = TickClock::now();
        if (now < last) ++backwards;
        last = now;
        ++calls;
    }
    CHECK(calls > 1000);
    CHECK(backwards == 0);
}

TEST_CASE("tick clock - keeps pace with steady_clock") {
    for (const auto span : {std::chrono::milliseconds(2), std::chrono::milliseconds(150)}) {
        const auto steady_start = std::chrono::steady_clock::now();
        const auto tick_start = TickClock::now();
        std::this_thread::sleep_for(span);
        const auto tick_took = TickClock::now() - tick_start;
        const auto steady_took = std::chrono::steady_clock::now() - steady_start;
        const double ratio = static_cast<double>(tick_took.count()) / static_cast<double>(steady_took.count());
        INFO("span " << span.count() << " ms, tick " << tick_took.count() << " ns, steady " << steady_took.count()
                     << " ns, counter " << TickClock::counter());
        CHECK(ratio > 0.99);
        CHECK(ratio < 1.01);
    }
}
