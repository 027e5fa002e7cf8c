// statenet::strategy_stats: what the recovery strategies of a workflow's states did.
#pragma once

#include <statenet/export.hpp>
#include <statenet/workflow.hpp>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace statenet {

/// One recovery strategy of one state, counted since its workflow version was loaded
/// (docs/recovery.md).
struct StrategyStats {
    std::string state;     ///< "network/state"
    std::string strategy;  ///< "retry", "circuit_breaker", "bulkhead", "deadline", "fallback", "compensate", "cache"
    /// What it did, by name ("retries", "opened", "refused", "hits", ...), in a fixed order.
    std::vector<std::pair<std::string, std::uint64_t>> counts;
    std::string status;  ///< circuit_breaker: "closed", "open" or "half-open"; else empty
};

/// The counters of `workflow`'s current version's recovery strategies (retry,
/// circuit_breaker, bulkhead, deadline, fallback, compensate, cache), per state that
/// declares one, in state order. Empty when no state declares one.
STATENET_API std::vector<StrategyStats> strategy_stats(const Workflow& workflow);

}  // namespace statenet
