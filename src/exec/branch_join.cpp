// `[branches]`: a breadth-first record's branches joined into one record, as a parallel
// state joins its branches (docs/fanout.md): the join decides whether the record finishes,
// the merge what it becomes.
#include "exec/branch.hpp"
#include "exec/runner.hpp"
#include "lua/convert.hpp"

#include <fmt/format.h>

#include <map>

namespace statenet::detail {

void Runner::join_branches(Run& run, Outcome& outcome, const Value& input) {
    const Parallel& join = *model_->branch_join;
    if (run.fatal) return;  // MaxTransitions, Timeout: the record stopped
    const std::size_t finished = outcome.finished.size();
    const std::size_t total = finished + outcome.failed.size();
    const std::size_t needed = join.join == Parallel::Join::all   ? total
                               : join.join == Parallel::Join::any ? 1
                                                                  : static_cast<std::size_t>(join.quorum);
    if (finished < needed) {
        if (outcome.failed.empty()) {  // fewer branches than the quorum, all finished
            outcome.failed.push_back(std::move(outcome.finished.front()));
            outcome.finished.clear();
            Branch& b = outcome.failed.front();
            b.error = ErrorInfo{"ParallelFailed",
                                fmt::format("{} of {} branches finished, {} needed", finished, total, needed),
                                b.final_state ? b.final_state->qualified : std::string()};
            outcome.primary = nullptr;
            outcome.culprit = &b;
            return;
        }
        Branch& failed = outcome.failed.front();
        if (join.join != Parallel::Join::all) {
            const std::string why =
                failed.error ? fmt::format("; a branch failed: {}: {}", failed.error->name, failed.error->message) : "";
            failed.error = ErrorInfo{
                "ParallelFailed", fmt::format("{} of {} branches finished, {} needed{}", finished, total, needed, why),
                failed.error ? failed.error->state : std::string()};
        }
        outcome.primary = nullptr;
        outcome.culprit = &failed;
        return;
    }
    // The branches by their end state's name (a second one ending there is `name_2`).
    std::map<std::string, int> seen;
    std::vector<std::string> names;
    const std::size_t joined = join.join == Parallel::Join::any ? 1 : finished;
    for (std::size_t i = 0; i < joined; ++i) {
        const std::string& name = outcome.finished[i].final_state->name;
        const int count = ++seen[name];
        names.push_back(count == 1 ? name : fmt::format("{}_{}", name, count));
    }
    lua_State* L = program_.state();
    StackGuard guard(L);
    program_.vm().push_runtime("join_branches");
    lua_pushinteger(L, outcome.finished.front().slot);
    push_value(L, input, program_.convert());
    for (const auto& name : names) lua_pushlstring(L, name.data(), name.size());
    for (std::size_t i = 0; i < joined; ++i) lua_pushinteger(L, outcome.finished[i].slot);
    if (lua_pcall(L, static_cast<int>(2 + 2 * joined), 0, 0) != 0) {
        Branch& primary = outcome.finished.front();
        primary.error = pcall_error(primary.final_state->qualified);
        outcome.failed.push_back(std::move(primary));
        outcome.finished.clear();
        outcome.primary = nullptr;
        outcome.culprit = &outcome.failed.back();
        return;
    }
    // One record: the first finished branch carries the joined data (its state and path).
    outcome.finished.resize(1);
    outcome.primary = &outcome.finished.front();
}

}  // namespace statenet::detail
