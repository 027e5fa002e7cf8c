// Text forms of execution history for `statenet history`: run tables, step trees, paths, graphs, stats, replay reports.
#pragma once

#include <statenet/history.hpp>

#include <string>
#include <vector>

namespace statenet::cli {

/// One line per run: id, run id, start, status, final state, duration, error.
/// `history list --parked`: one line per parked record (run id, state, signal, deadline, since, status).
std::string parked_table(const std::vector<ParkedRun>& parked);
std::string runs_table(const std::vector<HistoryRun>& runs);
/// The run's header and its steps as a tree (indented by push depth), with timings,
/// transitions, errors and, at level full, input, changes and output.
std::string run_text(const HistoryRun& run, const std::vector<HistoryStep>& steps);
/// The states entered, in order (`network/state`).
std::vector<std::string> run_path(const std::vector<HistoryStep>& steps);
/// The path taken drawn as a graph: states visited, transitions numbered by step.
std::string path_mermaid(const HistoryRun& run, const std::vector<HistoryStep>& steps);
std::string path_dot(const HistoryRun& run, const std::vector<HistoryStep>& steps);
std::string stats_table(const HistoryStats& stats);
Value stats_value(const HistoryStats& stats);
/// Each divergence with its first diverging step, then a summary line.
std::string replay_text(const ReplayReport& report);
Value replay_value(const ReplayReport& report);

}  // namespace statenet::cli
