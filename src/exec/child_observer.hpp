// ChildObserver: what runs made for a record's step report, filed under that step.
#pragma once

#include "exec/run_observer.hpp"

namespace statenet::detail {

/// Files the steps of runs made for one step of a record (a map's items, a parallel
/// state's branches run concurrently) under that step, one level deeper: they are not runs
/// of their own in history. Called on the record's thread only.
class ChildObserver final : public RunObserver {
public:
    ChildObserver(RunObserver* steps, int map_step, int depth)
        : RunObserver(steps != nullptr, steps && steps->wants_changes()),
          steps_(steps),
          map_step_(map_step),
          depth_(depth) {}

    void run_started(const RunId&, TickClock::time_point, const Value&, const RunOptions&) override {}
    int step_started(int parent, StepVia via, const State& state, int attempt, int depth) override {
        if (parent == 0) {
            steps_->routed(map_step_, state, {});
            parent = map_step_;
            via = StepVia::push;
        }
        return steps_->step_started(parent, via, state, attempt, depth + depth_);
    }
    void step_ended(int step, StepEnd end, const ErrorInfo* error, std::chrono::nanoseconds took,
                    Value* changes) override {
        steps_->step_ended(step, end, error, took, changes);
    }
    void routed(int step, const State& target, std::string_view reason) override {
        steps_->routed(step, target, reason);
    }
    void step_failed(int step, const ErrorInfo& error) override { steps_->step_failed(step, error); }
    void run_finished(const Result&, const State*, const Value*) override {}

private:
    RunObserver* steps_;
    int map_step_;
    int depth_;
};

}  // namespace statenet::detail
