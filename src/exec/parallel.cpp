// Parallel states: each branch network runs on a deep copy of the record, in the listed
// order; the join decides whether the state goes on, the merge what the record becomes.
#include "exec/branch.hpp"
#include "lua/protocol.hpp"

#include <fmt/format.h>

namespace statenet::detail {

namespace {

int needed(const Parallel& p) {
    switch (p.join) {
    case Parallel::Join::all: return static_cast<int>(p.branches.size());
    case Parallel::Join::any: return 1;
    case Parallel::Join::quorum: return p.quorum;
    }
    return 1;
}

}  // namespace

Runner::Status Runner::run_parallel(Run& run, Branch& b, const State& s) {
    const Parallel& p = *s.parallel;
    const RuntimeRefs& refs = program_.refs();
    std::vector<int> finished_index, finished_slot;  // 1-based branch numbers, their slots
    std::optional<ErrorInfo> failure;
    std::string failed_network;
    // A branch runs depth-first whatever the workflow's strategy.
    const bool breadth_first = std::exchange(run.breadth_first, false);
    for (std::size_t i = 0; i < p.branches.size(); ++i) {
        const int net = p.branches[i];
        const int start = model_->networks[static_cast<std::size_t>(net)].start;
        Branch sub;
        sub.reset(program_.call_int(refs.clone, {double(b.slot), 1.0}), net, start);
        sub.depth_offset = b.depth_offset + static_cast<int>(b.frames.size()) + 1;
        sub.parent = b.step;
        sub.via = StepVia::push;
        if (run.steps) run.steps->routed(b.step, model_->state(net, start), {});
        Status status;
        do status = step(run, sub, no_spawn_);
        while (status == Status::running);
        b.path.insert(b.path.end(), sub.path.begin(), sub.path.end());
        if (status == Status::finished) {
            finished_index.push_back(static_cast<int>(i + 1));
            finished_slot.push_back(sub.slot);
            if (p.join == Parallel::Join::any) break;
            continue;
        }
        program_.call_void(refs.free, {double(sub.slot)});
        if (!failure) {
            failure = sub.error;
            failed_network = model_->networks[static_cast<std::size_t>(net)].name;
        }
        if (run.fatal || p.join == Parallel::Join::all) break;
    }
    run.breadth_first = breadth_first;
    auto drop_finished = [&] {
        for (int slot : finished_slot) program_.call_void(refs.free, {double(slot)});
    };
    if (run.fatal) {
        drop_finished();
        return record_failure(run, b, failure.value_or(ErrorInfo{"Timeout", "record stopped", s.qualified}));
    }
    if (static_cast<int>(finished_slot.size()) < needed(p)) {
        drop_finished();
        ErrorInfo error = failure.value_or(ErrorInfo{"ParallelFailed", "no branch finished", s.qualified});
        if (p.join == Parallel::Join::all) {
            // The branch's own error, so the state's retry and on_error can match it.
            error.message = fmt::format("branch '{}': {}", failed_network, error.message);
        } else {
            error = ErrorInfo{
                "ParallelFailed",
                fmt::format("{} of {} branches finished, {} needed; branch '{}' failed: {}: {}", finished_slot.size(),
                            p.branches.size(), needed(p), failed_network, error.name, error.message),
                s.qualified};
        }
        return fail(run, b, std::move(error));
    }
    lua_State* L = program_.state();
    StackGuard guard(L);
    program_.vm().push_runtime("join");
    lua_pushinteger(L, s.id);
    lua_pushinteger(L, b.slot);
    for (int index : finished_index) lua_pushinteger(L, index);
    for (int slot : finished_slot) lua_pushinteger(L, slot);
    if (lua_pcall(L, 2 + 2 * static_cast<int>(finished_slot.size()), 0, 0) != 0)
        return fail(run, b, pcall_error(s.qualified));
    return route_after_join(run, b, s);
}

// The joined record ends here or leaves by the state's arcs, chosen as a step would.
Runner::Status Runner::route_after_join(Run& run, Branch& b, const State& s) {
    lua_State* L = program_.state();
    StackGuard guard(L);
    program_.vm().push_runtime("route");
    lua_pushinteger(L, s.id);
    lua_pushinteger(L, b.slot);
    if (lua_pcall(L, 2, 3, 0) != 0) return fail(run, b, pcall_error(s.qualified));
    switch (static_cast<StepOutcome>(lua_tointeger(L, -3))) {
    case StepOutcome::end: return finish(run, b);
    case StepOutcome::arc:
        return take_arc(run, b, s.arcs[static_cast<std::size_t>(lua_tointeger(L, -2))], reason_at(L, -1));
    default: return fail(run, b, ErrorInfo{lua_text(L, -2), lua_text(L, -1), s.qualified});
    }
}

}  // namespace statenet::detail
