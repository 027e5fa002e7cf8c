// statenet::Result: what processing one record produced.
#pragma once

#include <statenet/error.hpp>
#include <statenet/export.hpp>
#include <statenet/value.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace statenet {

/// One breadth-first branch that reached an end state.
struct Branch {
    std::string final_state;  ///< `network/state`
    Value data;
    std::vector<std::string> path;
    /// False when the branch's end state has `emit = false`.
    bool emit = true;
};

/// Tokens reported by `llm` resources: for one record (Result::usage) or since a
/// workflow version was loaded (ResourceStats::tokens).
struct TokenUsage {
    std::uint64_t prompt_tokens = 0;
    std::uint64_t completion_tokens = 0;
    bool empty() const noexcept { return prompt_tokens == 0 && completion_tokens == 0; }
};

/// A resource's counters since its workflow version was loaded
/// (Workflow::resource_stats()), for every kind.
struct ResourceStats {
    std::string name;
    std::string type;
    std::uint64_t calls = 0;    ///< Lua calls; a call's retries count once
    std::uint64_t errors = 0;   ///< calls that raised an error
    std::uint64_t retries = 0;  ///< `http`, `llm`: attempts after a call's first
    double latency_ms_sum = 0;  ///< over every call, retries and waits included
    double latency_ms_max = 0;
    /// `http`, `llm`: the circuit breaker, "closed" (healthy), "open" or "half-open".
    /// Other kinds: "ok"; "degraded" when the last call failed, the last wait for a
    /// pooled connection timed out or a connection could not begin its transaction;
    /// "down" when the last attempt to connect (or to open the store or root) failed.
    std::string health = "ok";
    TokenUsage tokens;  ///< `llm`
};

/// What one record's (or machine event's) calls to one resource amounted to.
struct ResourceUse {
    std::string name;
    std::string type;
    std::uint64_t calls = 0;
    std::uint64_t errors = 0;
    double latency_ms = 0;  ///< summed over the calls
    /// The resource's health (as in ResourceStats) when the record ended.
    std::string health;
};

/// The outcome of one record run.
struct STATENET_API Result {
    /// True when the record reached an end state (whatever that state means to the user).
    bool ok = false;
    /// `network/state` where the record finished, or where it failed.
    std::string final_state;
    /// The record's data at the end (in copy mode, as of the last successful state).
    Value data;
    /// Every state entered, as `network/state`, sub-networks included, in order.
    std::vector<std::string> path;
    /// Set when ok is false.
    std::optional<ErrorInfo> error;
    /// Breadth-first strategy: every branch that reached an end state, primary first.
    std::vector<Branch> branches;
    std::string run_id;
    /// Arcs taken (including on_error routes and pushes).
    std::size_t transitions = 0;
    std::chrono::nanoseconds duration{0};
    /// False when the final state has `emit = false` (the record is excluded from output).
    bool emit = true;
    /// Tokens the record's `llm` calls used.
    TokenUsage usage;
    /// The record's resource calls, one entry per resource it called, in first-call order.
    std::vector<ResourceUse> resources;
    /// True when the record waits for a signal in a `wait` state (final_state): it is
    /// parked in the workflow's park database, neither finished (ok is false) nor
    /// failed (error is empty), and not emitted. Engine::signal resumes it by run_id.
    bool parked = false;
    /// The signal a parked record waits for.
    std::string signal;

    /// The result as a JSON-ready Value (ok, final_state, data, path, error, ...).
    Value to_value() const;
    /// to_value() as JSON text with `data_json` (JSON text, such as Workflow::process_json
    /// writes with JsonData::always; empty = null) as its data instead of `data`.
    std::string to_json(std::string_view data_json) const;
};

}  // namespace statenet
