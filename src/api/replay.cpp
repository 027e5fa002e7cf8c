// Replay: recorded inputs through the current workflow, compared with what history recorded.
#include <statenet/history.hpp>
#include <statenet/workflow.hpp>

#include "api/workflow_impl.hpp"
#include "history/recorder.hpp"

namespace statenet {

namespace {

bool same_error(const std::optional<ErrorInfo>& a, const std::optional<ErrorInfo>& b) {
    if (!a || !b) return !a && !b;
    return a->name == b->name && a->message == b->message && a->state == b->state;
}

bool same_step(const HistoryStep& a, const HistoryStep& b) {
    return a.network == b.network && a.state == b.state && a.attempt == b.attempt && a.via == b.via &&
           a.parent == b.parent && a.status == b.status && a.arc == b.arc && same_error(a.error, b.error) &&
           a.changes == b.changes;
}

/// Fills the first diverging step; false when the steps agree.
bool first_divergence(const std::vector<HistoryStep>& recorded, const std::vector<HistoryStep>& replayed,
                      ReplayDivergence& d) {
    const std::size_t n = std::max(recorded.size(), replayed.size());
    for (std::size_t i = 0; i < n; ++i) {
        const bool both = i < recorded.size() && i < replayed.size();
        if (both && same_step(recorded[i], replayed[i])) continue;
        d.step_index = i + 1;
        if (i < recorded.size()) d.recorded_step = recorded[i];
        if (i < replayed.size()) d.replayed_step = replayed[i];
        return true;
    }
    return false;
}

}  // namespace

ReplayReport replay(const Workflow& workflow, const History& history, const HistoryFilter& filter) {
    ReplayReport report;
    detail::RunnerLease runner(workflow.impl().runners());
    const detail::Model& model = runner->model();
    const auto states = detail::states_by_id(model);
    // Each run's steps, read back from the recorder's channel once it ended.
    auto channel = std::make_shared<detail::RunChannel>();
    detail::RunRecorder recorder(HistoryLevel::full, channel, nullptr);
    for (HistoryRun& run : history.runs(filter)) {
        if (run.level != HistoryLevel::full || !run.input) {
            report.skipped.push_back(std::move(run));
            continue;
        }
        RunOptions options;
        options.position = run.position;
        Result result = runner->run(Value(*run.input), options, &recorder);
        ++report.replayed;

        ReplayDivergence d;
        if (result.final_state != run.final_state) d.differences.emplace_back("final_state");
        if (!run.output || !(result.data == *run.output)) d.differences.emplace_back("output");
        if (!same_error(result.error, run.error)) d.differences.emplace_back("error");
        std::vector<HistoryStep> replayed_steps;
        if (detail::RunRecord* replayed = channel->runs.front()) {
            if (replayed->extras)
                for (std::size_t i = 0; i < replayed->extras->steps.size(); ++i)
                    replayed_steps.push_back(detail::history_step(*replayed->extras, i, model, states));
            replayed->extras.reset();
            channel->runs.pop();
        }
        const bool steps_differ = first_divergence(history.steps(run), replayed_steps, d);
        if (steps_differ && d.differences.empty()) d.differences.emplace_back("steps");
        if (d.differences.empty()) continue;
        d.final_state = result.final_state;
        d.error = result.error;
        d.output = std::move(result.data);
        d.recorded = std::move(run);
        report.divergences.push_back(std::move(d));
    }
    return report;
}

}  // namespace statenet
