// Retry back-off: the wait between attempts, whatever the retrier's numbers.
#include "exec/retry.hpp"

#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <random>

using statenet::detail::max_duration_ms;
using statenet::detail::Retrier;
using statenet::detail::retry_delay_ms;

TEST_CASE("retry - the delay grows by the backoff and stops at max_delay_ms") {
    std::mt19937_64 rng(1);
    Retrier r;
    r.interval_ms = 100;
    r.backoff = 2;
    CHECK(retry_delay_ms(r, 0, rng) == 100);
    CHECK(retry_delay_ms(r, 3, rng) == 800);
    r.max_delay_ms = 500;
    CHECK(retry_delay_ms(r, 3, rng) == 500);
}

TEST_CASE("retry - the delay is always a finite wait a clock can sleep") {
    std::mt19937_64 rng(1);
    Retrier r;
    // Uncapped growth overflows to infinity after enough retries: the wait stops at the
    // longest duration a workflow may give.
    r.interval_ms = max_duration_ms;
    r.backoff = 1000;
    r.max_delay_ms = 0;
    CHECK(retry_delay_ms(r, 1000, rng) == max_duration_ms);
    r.full_jitter = true;
    const double jittered = retry_delay_ms(r, 1000, rng);
    CHECK((jittered >= 0 && jittered <= max_duration_ms));
    // Values the loader refuses, should a host build a model by hand: no wait.
    r.full_jitter = false;
    r.interval_ms = std::nan("");
    CHECK(retry_delay_ms(r, 1, rng) == 0);
    r.interval_ms = -5;
    CHECK(retry_delay_ms(r, 1, rng) == 0);
}

TEST_CASE("retry - backoff names a growth: fixed, linear, exponential or random") {
    std::mt19937_64 rng(1);
    Retrier r;
    r.interval_ms = 100;
    r.growth = Retrier::Growth::fixed;
    CHECK(retry_delay_ms(r, 0, rng) == 100);
    CHECK(retry_delay_ms(r, 4, rng) == 100);
    r.growth = Retrier::Growth::linear;
    CHECK(retry_delay_ms(r, 0, rng) == 100);
    CHECK(retry_delay_ms(r, 2, rng) == 300);
    r.max_delay_ms = 250;
    CHECK(retry_delay_ms(r, 2, rng) == 250);
    r.growth = Retrier::Growth::random;
    for (int i = 0; i < 50; ++i) {
        const double d = retry_delay_ms(r, i, rng);
        CHECK((d >= 100 && d <= 250));
    }
    r.max_delay_ms = 0;  // no cap: up to twice the interval
    for (int i = 0; i < 50; ++i) {
        const double d = retry_delay_ms(r, 0, rng);
        CHECK((d >= 100 && d <= 200));
    }
}
