// WorkflowVersion: one loaded version of a workflow, as the assembly built it: its model,
// resource pools, history writer and runner pool. Hot reload replaces the whole version.
#pragma once

#include "exec/parking.hpp"
#include "exec/runner_pool.hpp"
#include "exec/services.hpp"
#include "exec/shared_strategies.hpp"
#include "history/writer.hpp"
#include "model/model.hpp"
#include "resources/pool.hpp"

#include <memory>

namespace statenet::detail {

struct WorkflowVersion {
    std::shared_ptr<const Model> model;
    std::shared_ptr<EngineImpl> engine;
    std::shared_ptr<ResourcePools> pools;
    /// Null when history is off; declared before the runners, which record into it.
    std::shared_ptr<HistoryWriter> history;
    /// Null unless some state waits for a signal: where records park.
    std::shared_ptr<ParkStore> parking;
    /// Null unless some state declares a recovery strategy (circuit_breaker, cache, ...).
    std::shared_ptr<SharedStrategies> strategies;
    std::shared_ptr<RunnerPool> runners;
};

}  // namespace statenet::detail
