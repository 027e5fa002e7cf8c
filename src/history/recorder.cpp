// RunRecorder: builds a run's history rows while it executes; nothing here touches SQLite.
#include "history/recorder.hpp"

#include "history/schema.hpp"

#include <algorithm>

namespace statenet::detail {

namespace {

std::int16_t saturated(int n) { return static_cast<std::int16_t>(std::clamp(n, -32768, 32767)); }

}  // namespace

std::vector<const State*> states_by_id(const Model& model) {
    std::vector<const State*> states(static_cast<std::size_t>(model.state_count), nullptr);
    for (const auto& net : model.networks)
        for (const auto& s : net.states) states.at(static_cast<std::size_t>(s.id)) = &s;
    return states;
}

std::string_view step_end_name(StepEnd end) noexcept {
    switch (end) {
    case StepEnd::ok: return "ok";
    case StepEnd::end: return "end";
    case StepEnd::failed: return "failed";
    }
    return "ok";
}

std::string step_arcs(const StepRow& row, const StepMore* more, const std::vector<const State*>& states) {
    if (row.target < 0) return {};
    std::string arcs = states[static_cast<std::size_t>(row.target)]->qualified;
    if (more)
        for (std::int32_t target : more->more_targets)
            arcs += "," + states[static_cast<std::size_t>(target)]->qualified;
    return arcs;
}

HistoryStep history_step(const RunExtras& extras, std::size_t index, const Model& model,
                         const std::vector<const State*>& states) {
    const StepRow& row = extras.steps[index];
    const StepMore* more = row.more >= 0 ? &extras.more[static_cast<std::size_t>(row.more)] : nullptr;
    const State& state = *states[static_cast<std::size_t>(row.state)];
    HistoryStep s;
    s.seq = static_cast<std::int64_t>(index + 1);
    if (row.parent > 0) s.parent = row.parent;
    s.via = via_name(row.via);
    s.network = model.networks[static_cast<std::size_t>(state.network)].name;
    s.state = state.name;
    s.arc = step_arcs(row, more, states);
    s.attempt = row.attempt;
    s.depth = row.depth;
    s.status = step_end_name(row.end);
    s.duration_ns = row.duration_ns;
    if (more) {
        if (const ErrorInfo* error = more->error.get()) s.error = *error;
        if (more->changes) s.changes = *more->changes;
        s.reason = more->reason;
    }
    return s;
}

RunRecorder::RunRecorder(HistoryLevel level, std::shared_ptr<RunChannel> channel, std::shared_ptr<RunConsumer> consumer)
    : RunObserver(level >= HistoryLevel::steps, level == HistoryLevel::full),
      channel_(std::move(channel)),
      consumer_(std::move(consumer)) {}

RunRecorder::~RunRecorder() { channel_->closed.store(true, std::memory_order_release); }

RunRecord* RunRecorder::claim() {
    if (RunRecord* slot = channel_->runs.claim()) return slot;
    // Full: waits for the consumer to make room. Once it has stopped, the run is
    // recorded into scratch_ and dropped.
    while (consumer_ && consumer_->wait_for_room(*channel_))
        if (RunRecord* slot = channel_->runs.claim()) return slot;
    return &scratch_;
}

RunExtras& RunRecorder::extras() {
    if (!run_->extras) {
        std::unique_ptr<RunExtras>* spare = channel_->spares.front();
        if (spare) {
            run_->extras = std::move(*spare);
            channel_->spares.pop();
        } else {
            run_->extras = std::make_unique<RunExtras>();
        }
    }
    return *run_->extras;
}

StepRow* RunRecorder::at(int step) {
    if (step <= 0 || !run_ || !run_->extras || static_cast<std::size_t>(step) > run_->extras->steps.size())
        return nullptr;
    return &run_->extras->steps[static_cast<std::size_t>(step) - 1];
}

StepMore& RunRecorder::more(StepRow& step) {
    RunExtras& e = *run_->extras;  // `step` is one of its steps: the extras exist
    if (step.more < 0) {
        step.more = e.mores++;
        // An entry kept from an earlier run comes emptied (RunExtras::clear).
        if (e.more.size() < static_cast<std::size_t>(e.mores)) e.more.emplace_back();
    }
    return e.more[static_cast<std::size_t>(step.more)];
}

void RunRecorder::run_started(const RunId& id, TickClock::time_point started, const Value& input,
                              const RunOptions& options) {
    // A slot claimed for an earlier run that never ended here (it parked, or threw) is
    // claimed again, with what extras it had. A fresh slot has none (the writer took
    // them) and is only written: its line may still be in the writer's core's cache,
    // and a read would wait for it.
    RunRecord* const unfinished = run_;
    RunRecord& run = *(run_ = claim());
    if (&run == unfinished && run.extras) run.extras->clear();
    run.id = id;
    run.position = options.position.value_or(-1);
    run.started = started;
    if (wants_steps()) extras();
    if (wants_changes()) extras().input = std::make_unique<Value>(input);
}

int RunRecorder::step_started(int parent, StepVia via, const State& state, int attempt, int depth) {
    if (!wants_steps()) return 0;
    auto& steps = extras().steps;
    if (steps.size() >= static_cast<std::size_t>(max_steps_per_run)) return 0;
    StepRow& s = steps.emplace_back();
    s.parent = parent;
    s.state = state.id;
    s.attempt = saturated(attempt);
    s.depth = saturated(depth);
    s.via = via;
    return static_cast<int>(steps.size());
}

void RunRecorder::step_ended(int step, StepEnd end, const ErrorInfo* error, std::chrono::nanoseconds took,
                             Value* changes) {
    StepRow* s = at(step);
    if (!s) return;
    s->end = end;
    s->duration_ns = took.count();
    if (error) more(*s).error.set(*error);
    if (changes) more(*s).changes = std::make_unique<Value>(std::move(*changes));
}

void RunRecorder::routed(int step, const State& target, std::string_view reason) {
    StepRow* s = at(step);
    if (!s) return;
    if (!reason.empty() && (s->more < 0 || more(*s).reason.empty())) more(*s).reason.assign(reason);
    if (s->target < 0) s->target = target.id;
    else more(*s).more_targets.push_back(target.id);  // breadth-first: one arc per branch
}

void RunRecorder::step_failed(int step, const ErrorInfo& error) {
    StepRow* s = at(step);
    if (!s) return;
    s->end = StepEnd::failed;
    KeptError& kept = more(*s).error;
    if (!kept.get()) kept.set(error);  // the first error stays
}

void RunRecorder::run_finished(const Result& result, const State* final_state, const Value* data) {
    // Recorded once, when it ends after its signal (the parked row keeps its path); its
    // slot goes to the next run.
    if (result.parked || !run_) return;
    RunRecord& run = *run_;
    run.ok = result.ok;
    // A failed run ends where its error happened: the runner sets Result::final_state
    // to the error's state, so the error is all the writer needs.
    run.final_state = final_state ? final_state->id : -1;
    if (result.error) extras().error.set(*result.error);
    // Only a run that called resources pays for them (a run without extras is stored
    // by the cheaper plain insert).
    if (!result.usage.empty()) extras().usage = result.usage;
    if (!result.resources.empty()) {
        auto& uses = extras().resources = result.resources;
        for (ResourceUse& use : uses)  // history keeps a health only when it was not good
            if (use.health == "ok" || use.health == "closed") use.health.clear();
    }
    run.duration_ns = result.duration.count();
    run.transitions = static_cast<std::int32_t>(result.transitions);
    if (wants_changes()) extras().output = std::make_unique<Value>(data ? *data : result.data);
    run_ = nullptr;
    if (&run == &scratch_) return;  // the consumer stopped: dropped
    RunChannel& channel = *channel_;
    channel.runs.publish();
    const std::uint64_t pushed = channel.runs.pushed();
    if (consumer_ && pushed - channel.woken_at >= RunChannel::wake_at && channel.runs.size() >= RunChannel::wake_at) {
        channel.woken_at = pushed;
        consumer_->wake(channel);
    }
}

}  // namespace statenet::detail
