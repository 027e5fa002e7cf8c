// RunRecord: one run's history as a worker fills it in and the history writer stores it.
#pragma once

#include "exec/run_id.hpp"
#include "exec/run_observer.hpp"
#include "exec/tick_clock.hpp"

#include <statenet/history.hpp>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace statenet::detail {

/// An error in storage reused run after run: set() copies it into the strings' room an
/// earlier error left, and clear() keeps that room, so recording an error allocates
/// nothing on the worker and frees nothing on the writer's thread (the reference
/// workload fails 5% of its records; a free on the other thread cost each of them ~1 µs
/// of the worker's time).
class KeptError {
public:
    /// The error, or null when none is set.
    const ErrorInfo* get() const noexcept { return set_ ? &error_ : nullptr; }
    void set(const ErrorInfo& error) {
        set_ = true;
        error_ = error;
    }
    void clear() noexcept { set_ = false; }

private:
    bool set_ = false;
    ErrorInfo error_;
};

/// What few steps have: the other branches' arcs, a condition's reason, an error, level
/// full's changes. Kept apart from StepRow, so the rows a worker writes and the writer
/// reads on another core stay four to a cache line. Reused with its extras, keeping its
/// strings' room.
struct StepMore {
    std::vector<std::int32_t> more_targets;  // breadth-first: the other branches' states
    std::string reason;                      // the condition's reason for the arc taken
    KeptError error;
    std::unique_ptr<Value> changes;

    void clear() {
        more_targets.clear();
        reason.clear();
        error.clear();
        changes.reset();
    }
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
    KeptError error;                       // a failed run's error (its final state is the error's state)
    std::unique_ptr<Value> input, output;  // level full
    std::vector<StepRow> steps;
    // What steps' `more` point at: the first `mores` entries; the others are emptied
    // ones kept for the next runs (at most keep_more of them).
    std::vector<StepMore> more;
    std::int32_t mores = 0;
    std::string steps_json;              // the steps as stored (runs.steps), made on the writer's thread
    TokenUsage usage;                    // llm tokens, when the run used any
    std::vector<ResourceUse> resources;  // its resource calls, when it made any
    std::string resources_json;          // runs.resources, made on the writer's thread

    static constexpr std::size_t keep_more = 16;

    /// Empties it for the next run, keeping the steps' and the errors' room.
    void clear() {
        error.clear();
        input.reset();
        output.reset();
        steps.clear();
        for (std::int32_t i = 0; i < mores; ++i) more[static_cast<std::size_t>(i)].clear();
        mores = 0;
        if (more.size() > keep_more) more.resize(keep_more);
        steps_json.clear();
        usage = TokenUsage{};
        resources.clear();
        resources_json.clear();
    }
};

/// One run's row, in memory until the writer stores them. One cache line: a worker
/// fills one in per record, in place in the ring that hands it to the writer's thread
/// (src/history/run_channel.hpp), so its size is the traffic between the two cores.
struct RunRecord {
    RunId id;                    // its UUID text is made on the writer's thread
    std::int64_t position = -1;  // -1: none given
    // When it started, as the worker read its clock; the writer turns it into wall time.
    TickClock::time_point started;
    std::int64_t duration_ns = 0;
    std::int32_t transitions = 0;
    std::int32_t final_state = -1;  // an ok run's end state (global id), else -1
    bool ok = false;
    std::unique_ptr<RunExtras> extras;  // null unless the run has more to store
};
static_assert(sizeof(RunRecord) == 64);

}  // namespace statenet::detail
