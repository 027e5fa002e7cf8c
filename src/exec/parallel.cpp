// Parallel states: each branch network runs on a deep copy of the record — in the listed
// order on the record's VM, or, when they may wait on the network, on runners of their own
// in flight together; the join decides whether the state goes on, the merge what the
// record becomes.
#include "exec/branch.hpp"
#include "exec/child_observer.hpp"
#include "exec/in_flight.hpp"
#include "lua/protocol.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <stdexcept>

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

/// Branches overlap on the record's worker when they may wait on the network and
/// nothing they write is transactional (their runs commit on their own runners).
bool branches_overlap(const Model& m) {
    if (!m.uses_yielding_resources() || m.mode == DataMode::reference) return false;
    return std::none_of(m.resources.begin(), m.resources.end(), [](const ResourceDecl& r) {
        return r.type == "sqlite" || r.type == "postgres" || r.type == "files";
    });
}

}  // namespace

Runner::Status Runner::run_parallel(Run& run, Branch& b, const State& s) {
    if (branches_overlap(*model_))
        if (auto pool = siblings_.lock()) return run_parallel_in_flight(run, b, s, pool);
    const Parallel& p = *s.parallel;
    const RuntimeRefs& refs = program_.refs();
    Joined joined;
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
            joined.index.push_back(static_cast<int>(i + 1));
            joined.slot.push_back(sub.slot);
            if (p.join == Parallel::Join::any) break;
            continue;
        }
        program_.call_void(refs.free, {double(sub.slot)});
        if (!joined.failure) {
            joined.failure = sub.error;
            joined.failed_network = model_->networks[static_cast<std::size_t>(net)].name;
        }
        if (run.fatal || p.join == Parallel::Join::all) break;
    }
    run.breadth_first = breadth_first;
    return settle_join(run, b, s, joined);
}

// Each branch on a runner of its own, all in flight together on this worker while they
// wait on the network: each gets the record as a value (a copy, as in copy mode) and
// gives its record back. The branch that decides the join (any: the first to finish;
// all: the first to fail) cancels the others at their next step.
Runner::Status Runner::run_parallel_in_flight(Run& run, Branch& b, const State& s,
                                              const std::shared_ptr<RunnerPool>& pool) {
    const Parallel& p = *s.parallel;
    const std::size_t n = p.branches.size();
    const Value record = program_.read_whole(b.slot, Value());
    ChildObserver observer(run.steps, b.step, b.depth_offset + static_cast<int>(b.frames.size()) + 1);
    std::vector<Result> results(n);
    std::vector<std::size_t> finish_order;
    bool decided = false;
    const RunId id = run_bits();
    {
        InFlight flight(pool, static_cast<unsigned>(n));
        flight.run(n, [&](std::size_t i, Runner& runner) {
            RunOptions options;
            options.network = model_->networks[static_cast<std::size_t>(p.branches[i])].name;
            JoinedRun joined_run(runner, &id, &decided);
            results[i] = runner.run(record, options, &observer);
            if (results[i].ok) finish_order.push_back(i);
            if (results[i].ok ? p.join == Parallel::Join::any : p.join == Parallel::Join::all) decided = true;
        });
    }
    Joined joined;
    for (std::size_t i = 0; i < n; ++i) {
        for (const auto& state : results[i].path) b.path.push_back(&qualified_name(state));
        const Result& r = results[i];
        if (r.ok || !r.error || r.error->name == "Cancelled") continue;
        if (r.error->name == "Timeout" || r.error->name == "MaxTransitions") {
            run.fatal = true;
            return record_failure(run, b, *r.error);
        }
        if (!joined.failure) {
            joined.failure = r.error;
            joined.failed_network = model_->networks[static_cast<std::size_t>(p.branches[i])].name;
        }
    }
    // any: the first to finish; all and quorum: every finished branch, in the listed order.
    std::vector<std::size_t> chosen;
    if (p.join != Parallel::Join::any) chosen = finish_order;
    else if (!finish_order.empty()) chosen.push_back(finish_order.front());
    std::sort(chosen.begin(), chosen.end());
    lua_State* L = program_.state();
    for (std::size_t i : chosen) {
        StackGuard guard(L);
        program_.vm().push_runtime("adopt");
        push_value(L, results[i].data, program_.convert());
        if (lua_pcall(L, 1, 1, 0) != 0) throw std::logic_error("statenet runtime: " + pop_error_text(L));
        joined.index.push_back(static_cast<int>(i + 1));
        joined.slot.push_back(static_cast<int>(lua_tointeger(L, -1)));
    }
    return settle_join(run, b, s, joined);
}

// After the branches: too few finished fails the state, else the join merges them.
Runner::Status Runner::settle_join(Run& run, Branch& b, const State& s, Joined& joined) {
    const Parallel& p = *s.parallel;
    const RuntimeRefs& refs = program_.refs();
    auto drop_finished = [&] {
        for (int slot : joined.slot) program_.call_void(refs.free, {double(slot)});
    };
    if (run.fatal) {
        drop_finished();
        return record_failure(run, b, joined.failure.value_or(ErrorInfo{"Timeout", "record stopped", s.qualified}));
    }
    if (static_cast<int>(joined.slot.size()) < needed(p)) {
        drop_finished();
        ErrorInfo error = joined.failure.value_or(ErrorInfo{"ParallelFailed", "no branch finished", s.qualified});
        if (p.join == Parallel::Join::all) {
            // The branch's own error, so the state's retry and on_error can match it.
            error.message = fmt::format("branch '{}': {}", joined.failed_network, error.message);
        } else {
            error = ErrorInfo{
                "ParallelFailed",
                fmt::format("{} of {} branches finished, {} needed; branch '{}' failed: {}: {}", joined.slot.size(),
                            p.branches.size(), needed(p), joined.failed_network, error.name, error.message),
                s.qualified};
        }
        return fail(run, b, std::move(error));
    }
    lua_State* L = program_.state();
    StackGuard guard(L);
    program_.vm().push_runtime("join");
    lua_pushinteger(L, s.id);
    lua_pushinteger(L, b.slot);
    for (int index : joined.index) lua_pushinteger(L, index);
    for (int slot : joined.slot) lua_pushinteger(L, slot);
    if (lua_pcall(L, 2 + 2 * static_cast<int>(joined.slot.size()), 0, 0) != 0)
        return fail(run, b, pcall_error(s.qualified));
    return route_after_join(run, b, s);
}

// A state's `network/state` name as the model holds it (paths point into the model).
const std::string& Runner::qualified_name(const std::string& name) const {
    const auto slash = name.find('/');
    for (const auto& net : model_->networks)
        if (net.name.size() == slash && name.compare(0, slash, net.name) == 0)
            if (const int i = net.find(std::string_view(name).substr(slash + 1)); i >= 0)
                return net.states[static_cast<std::size_t>(i)].qualified;
    throw std::logic_error("statenet: no state named " + name);
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
