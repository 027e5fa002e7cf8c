// HealthBreaker: a supervising instance's circuit breaker over its `[supervision] health`
// check — closed, open after `breaker_failures` consecutive failures (its children are
// not ticked and nothing new starts), half-open once its back-off has passed (one
// check decides), with the back-off doubling up to `max_backoff_ms`.
#pragma once

#include "model/model.hpp"

#include <algorithm>
#include <string>
#include <string_view>

namespace statenet::detail {

struct HealthBreaker {
    enum class State { closed, open, half_open };
    State state = State::closed;
    std::int64_t failures = 0;  ///< consecutive
    double backoff_ms = -1;     ///< the current open period (< 0: not opened yet)
    double retry_at = 0;        ///< open: when it turns half-open
    std::string why;            ///< the last failure

    /// Whether the check must wait (open, back-off not over). Turns half-open when over.
    bool waiting(double now) {
        if (state != State::open) return false;
        if (now < retry_at) return true;
        state = State::half_open;
        return false;
    }

    /// Records a check's outcome (`failure` empty: healthy).
    void record(const std::string& failure, double now, const SupervisionConfig& c) {
        if (failure.empty()) {
            state = State::closed;
            failures = 0;
            backoff_ms = -1;
            why.clear();
            return;
        }
        why = failure;
        ++failures;
        if (state == State::half_open) {
            backoff_ms = std::min(backoff_ms * 2, c.max_backoff_ms);
        } else if (failures >= c.breaker_failures) {
            backoff_ms = c.backoff_ms;
        } else {
            return;
        }
        state = State::open;
        retry_at = now + backoff_ms;
    }

    bool open() const noexcept { return state == State::open; }
    bool operator==(const HealthBreaker&) const = default;

    const char* name() const noexcept {
        switch (state) {
        case State::closed: return "closed";
        case State::open: return "open";
        case State::half_open: return "half_open";
        }
        return "closed";
    }

    /// The state `name()` names (as stored); closed for anything else.
    static State state_named(std::string_view name) noexcept {
        return name == "open" ? State::open : name == "half_open" ? State::half_open : State::closed;
    }
};

}  // namespace statenet::detail
