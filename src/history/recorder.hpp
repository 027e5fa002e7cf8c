// RunRecorder: the RunObserver that turns one record's run into compact history rows, handed over when the run ends.
#pragma once

#include "exec/run_observer.hpp"

#include <statenet/history.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace statenet::detail {

/// What few steps have: the other branches' arcs, a condition's reason, an error, level
/// full's changes. Kept apart from StepRow, so the rows a worker writes and the writer
/// reads on another core stay four to a cache line.
struct StepMore {
    std::vector<std::int32_t> more_targets;  // breadth-first: the other branches' states
    std::string reason;                      // the condition's reason for the arc taken
    std::unique_ptr<ErrorInfo> error;
    std::unique_ptr<Value> changes;
};

/// One step as recorded: states by global id, so recording copies no names. 32 bytes.
struct StepRow {
    std::int64_t duration_ns = 0;
    std::int32_t parent = 0;   // 0: none
    std::int32_t state = 0;    // global state id
    std::int32_t target = -1;  // the first state left for, -1: none
    std::int32_t more = -1;    // its RunExtras::more entry, -1: none
    std::int16_t attempt = 0;  // saturated at 32767
    std::int16_t depth = 0;    // saturated at 32767
    StepVia via = StepVia::start;
    StepEnd end = StepEnd::ok;
};
static_assert(sizeof(StepRow) == 32);

/// What a run has beyond its compact row: its error, level full's data, its steps.
/// An ok run at level `runs` has none of it.
struct RunExtras {
    std::unique_ptr<ErrorInfo> error;      // a failed run's final state is its error's state
    std::unique_ptr<Value> input, output;  // level full
    std::vector<StepRow> steps;
    std::vector<StepMore> more;          // what steps' `more` point at
    std::string steps_json;              // the steps as stored (runs.steps), made on the writer's thread
    TokenUsage usage;                    // llm tokens, when the run used any
    std::vector<ResourceUse> resources;  // its resource calls, when it made any
    std::string resources_json;          // runs.resources, made on the writer's thread

    /// Empties it for the next run, keeping the steps' capacity.
    void clear() {
        error.reset();
        input.reset();
        output.reset();
        steps.clear();
        more.clear();
        steps_json.clear();
        usage = TokenUsage{};
        resources.clear();
        resources_json.clear();
    }
};

/// One run's row, in memory until the writer stores them. One cache line: a worker
/// builds one per record and moves it to the writer's thread, so its size is the
/// traffic between the two cores.
struct RunRecord {
    RunId id;                    // its UUID text is made on the writer's thread
    std::int64_t position = -1;  // -1: none given
    std::int64_t started_us = 0, duration_ns = 0;
    std::int32_t transitions = 0;
    std::int32_t final_state = -1;  // an ok run's end state (global id), else -1
    bool ok = false;
    std::unique_ptr<RunExtras> extras;  // null unless the run has more to store
};

/// States by global id, to turn StepRows into names.
std::vector<const State*> states_by_id(const Model& model);
std::string_view step_end_name(StepEnd end) noexcept;
/// The states a step left for, as history shows them: "net/a" or, breadth-first,
/// "net/a,net/b"; empty when it left for none.
std::string step_arcs(const StepRow& row, const StepMore* more, const std::vector<const State*>& states);
/// The public form of step `index` (0-based) of `steps`.
HistoryStep history_step(const RunExtras& extras, std::size_t index, const Model& model,
                         const std::vector<const State*>& states);

class RunRecorder final : public RunObserver {
public:
    /// Receives each finished run; may hand back an emptied RunExtras to reuse, so a
    /// run's steps cost no allocation.
    using Done = std::function<std::unique_ptr<RunExtras>(RunRecord&&)>;

    RunRecorder(HistoryLevel level, Done done);

    bool wants_steps() const noexcept override { return steps_; }
    bool wants_changes() const noexcept override { return level_ == HistoryLevel::full; }
    void run_started(const RunId& id, TickClock::time_point started, const Value& input,
                     const RunOptions& options) override;
    int step_started(int parent, StepVia via, const State& state, int attempt, int depth) override;
    void step_ended(int step, StepEnd end, const ErrorInfo* error, std::chrono::nanoseconds took,
                    Value* changes) override;
    void routed(int step, const State& target, std::string_view reason) override;
    void step_failed(int step, const ErrorInfo& error) override;
    void run_finished(const Result& result, const State* final_state, const Value* data) override;

private:
    HistoryLevel level_;
    bool steps_;
    Done done_;
    RunRecord record_;
    std::unique_ptr<RunExtras> spare_;  // for the next run that needs extras
    // Wall time of a run's start, from the steady clock reading the runner takes anyway.
    std::int64_t wall_base_us_;
    TickClock::time_point steady_base_;

    RunExtras& extras();
    StepRow* at(int step);
    /// The step's StepMore, made when first asked for.
    StepMore& more(StepRow& step);
};

}  // namespace statenet::detail
