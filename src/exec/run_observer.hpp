// RunObserver: what the runner reports while a record runs (execution history listens); null when no one does.
#pragma once

#include "exec/run_id.hpp"
#include "exec/tick_clock.hpp"
#include "model/model.hpp"

#include <statenet/result.hpp>
#include <statenet/value.hpp>
#include <statenet/workflow.hpp>

#include <chrono>
#include <cstdint>
#include <string_view>

namespace statenet::detail {

/// How a record came to a step. History stores these numbers (0..5) and its `steps`
/// view spells them out (src/history/schema.cpp): keep the order.
enum class StepVia : std::uint8_t { start, arc, push, ret, retry, on_error };

std::string_view via_name(StepVia via) noexcept;

/// How a step's own work ended: it chose an arc, finished the record, or failed.
/// Stored as 0..2 in history, like StepVia.
enum class StepEnd : std::uint8_t { ok, end, failed };

/// Called by one runner on its own thread, in this order per record: run_started, then
/// for each step step_started ... step_ended (with routes and late failures in between),
/// then run_finished. Implementations must not block on I/O.
class RunObserver {
public:
    virtual ~RunObserver() = default;

    /// True when the observer records steps (history level steps or full); otherwise
    /// only run_started and run_finished are called.
    bool wants_steps() const noexcept { return steps_; }
    /// True when the observer wants each step's data changes (history level full).
    bool wants_changes() const noexcept { return changes_; }
    /// `id` is the run's id (Result::run_id is its text); `started`, when it started.
    virtual void run_started(const RunId& id, TickClock::time_point started, const Value& input,
                             const RunOptions& options) = 0;
    /// A state is entered or retried; returns the step's number (`parent` is 0 for the first).
    virtual int step_started(int parent, StepVia via, const State& state, int attempt, int depth) = 0;
    /// The step's own work ended; `error` is set when it failed. `changes` is what it
    /// changed in the record (only when wants_changes() and it did not fail).
    virtual void step_ended(int step, StepEnd end, const ErrorInfo* error, std::chrono::nanoseconds took,
                            Value* changes) = 0;
    /// The record leaves step `step` for state `target`: an arc, a push, an on_error
    /// route or a retry. `reason`: what the arc's condition gave as its second value
    /// (empty when none).
    virtual void routed(int step, const State& target, std::string_view reason) = 0;
    /// An error reached a step after it ended: a sub-network's failure reaching the
    /// pushing step, or a run-wide limit (MaxTransitions, Timeout).
    virtual void step_failed(int step, const ErrorInfo& error) = 0;
    /// `final_state` is the state an ok run ended in (null for a failed one); `data` is
    /// the record's final data when result.data does not hold it (the lazy JSON path),
    /// given only when wants_changes().
    virtual void run_finished(const Result& result, const State* final_state, const Value* data) = 0;

protected:
    /// What it wants is fixed for its life (the runner reads it on every record).
    RunObserver(bool steps, bool changes) noexcept : steps_(steps), changes_(steps && changes) {}

private:
    bool steps_, changes_;
};

}  // namespace statenet::detail
