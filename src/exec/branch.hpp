// The state of one record's run inside a Runner: its run-wide limits and observer, and
// its branches (one in depth-first runs), each with the push frames it may return to.
#pragma once

#include "exec/runner.hpp"
#include "exec/tick_clock.hpp"

#include <chrono>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace statenet::detail {

struct Runner::Frame {
    int network;  // the calling network
    int state;    // the pushing state
    const Arc* arc;
    int parent_slot;
    int attempt;
    std::vector<int> retry_counts;
    int step;  // the pushing step (history)
};

struct Runner::Branch {
    int slot = 0;
    int network = 0;
    int state = 0;
    int previous = -1;  // the state before `state` in this network (`to = "@previous"`), -1 = none
    std::vector<Frame> frames;
    std::vector<const std::string*> path;  // each state entered, as its model's `network/state`
    bool entered = false;
    int attempt = 0;
    std::vector<int> retry_counts;
    std::optional<ErrorInfo> entry_error;  // ctx.error while in an on_error target or a fallback
    bool in_fallback = false;              // the next step runs the state's fallback
    /// States that succeeded and have `compensate` (network, index), in order: undone
    /// in reverse when the record fails.
    std::vector<std::pair<int, int>> compensations;
    Status status = Status::running;
    const State* final_state = nullptr;  // where it finished
    bool emit = true;
    std::optional<ErrorInfo> error;
    // History: this branch's current step, and how the next one is reached.
    int step = 0;
    int parent = 0;
    StepVia via = StepVia::start;
    int depth_offset = 0;  // a parallel state's branch: the depth it runs at

    /// A fresh branch at `state` of `network` for the record in `slot`, keeping the
    /// capacity of its vectors.
    void reset(int record_slot, int in_network, int at_state) {
        slot = record_slot;
        network = in_network;
        state = at_state;
        previous = -1;
        frames.clear();
        path.clear();
        entered = false;
        attempt = 0;
        retry_counts.clear();
        entry_error.reset();
        in_fallback = false;
        compensations.clear();
        status = Status::running;
        final_state = nullptr;
        emit = true;
        error.reset();
        step = parent = 0;
        via = StepVia::start;
        depth_offset = 0;
    }
};

/// Where a resumed record goes on: its parked row and the waiting state.
struct Runner::ResumePoint {
    const ParkedRecord* parked;
    int network;
    int state;
    const std::optional<Value>* signal;  // nullopt: the deadline passed
};

struct Runner::Run {
    bool copy_default = true;
    bool deep = false;  // copies must be deep (direct states mutate nested tables)
    bool breadth_first = false;
    bool reference = false;           // the record is a row (reference mode)
    bool lean = false;                // see Runner::run_json
    std::string* json_out = nullptr;  // the JSON fast path's output line
    bool json_always = false;         // json_out gets every record's data (JsonData::always)
    bool timed = true;                // someone reads the duration
    TickClock::time_point started;
    double deadline = 0;    // clock ms, 0 = none
    int first_attempt = 0;  // ctx.attempt in the start state (a re-run after Conflict)
    int entry = 0;          // the network the record starts in (RunOptions::network)
    bool resume = false;    // RunOptions::resume, for map states
    std::size_t transitions = 0;
    bool fatal = false;  // MaxTransitions / Timeout: stop every branch
    RunObserver* observer = nullptr;
    RunObserver* steps = nullptr;  // the observer, when it records steps (else steps cost nothing)
    TickClock::time_point step_started;
    const ResumePoint* resumed = nullptr;  // a parked record going on
    std::optional<std::int64_t> position;  // RunOptions::position, kept with a parked record
    std::optional<ParkedRecord> parked;    // filled by collect when the record parks

    std::chrono::nanoseconds took() const { return timed ? TickClock::now() - started : std::chrono::nanoseconds{0}; }
};

/// How the branches ended: the one that explains an ok record (primary) or a failed one
/// (culprit); breadth-first runs keep every branch.
struct Runner::Outcome {
    std::vector<Branch> finished, failed;
    const Branch* primary = nullptr;
    const Branch* culprit = nullptr;
    const Branch* parked = nullptr;  // waits for a signal (depth-first runs only)
};

}  // namespace statenet::detail
