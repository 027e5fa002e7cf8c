// RunRecorder: the RunObserver that writes one record's run as compact history rows into its channel to the writer.
#pragma once

#include "exec/run_observer.hpp"
#include "history/run_channel.hpp"
#include "history/run_record.hpp"

#include <statenet/history.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace statenet::detail {

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
    /// Fills in each run in place in `channel`'s ring and publishes it when the run
    /// ends; `consumer` (kept alive while the recorder lives; null: the channel is read
    /// only after the runs, as replay does) is called when the ring fills up.
    RunRecorder(HistoryLevel level, std::shared_ptr<RunChannel> channel, std::shared_ptr<RunConsumer> consumer);
    /// Closes the channel: the consumer drops it once it has taken every run.
    ~RunRecorder() override;
    RunRecorder(const RunRecorder&) = delete;
    RunRecorder& operator=(const RunRecorder&) = delete;

    void run_started(const RunId& id, TickClock::time_point started, const Value& input,
                     const RunOptions& options) override;
    int step_started(int parent, StepVia via, const State& state, int attempt, int depth) override;
    void step_ended(int step, StepEnd end, const ErrorInfo* error, std::chrono::nanoseconds took,
                    Value* changes) override;
    void routed(int step, const State& target, std::string_view reason) override;
    void step_failed(int step, const ErrorInfo& error) override;
    void run_finished(const Result& result, const State* final_state, const Value* data) override;

private:
    std::shared_ptr<RunChannel> channel_;
    std::shared_ptr<RunConsumer> consumer_;
    RunRecord* run_ = nullptr;  // the run being recorded: its claimed slot, or scratch_
    RunRecord scratch_;         // where a run goes that the stopped consumer will not take

    /// The slot for the next run: waits while the ring is full.
    RunRecord* claim();
    RunExtras& extras();
    StepRow* at(int step);
    /// The step's StepMore, made when first asked for.
    StepMore& more(StepRow& step);
};

}  // namespace statenet::detail
