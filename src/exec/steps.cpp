// One branch's steps: a state's functions in one runtime call, then its arc, push,
// return, retry or on_error route, with the run-wide limits and what history observes.
#include "exec/branch.hpp"
#include "exec/retry.hpp"
#include "lua/protocol.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <stdexcept>
#include <utility>

namespace statenet::detail {

namespace {

// Step outcomes of statenet/runtime.lua (lua/protocol.hpp).
constexpr int step_end = static_cast<int>(StepOutcome::end);
constexpr int step_arc = static_cast<int>(StepOutcome::arc);
constexpr int step_fail = static_cast<int>(StepOutcome::fail);
constexpr int step_branches = static_cast<int>(StepOutcome::branches);
constexpr int step_parallel = static_cast<int>(StepOutcome::parallel);
constexpr int step_map = static_cast<int>(StepOutcome::map);
constexpr int step_wait = static_cast<int>(StepOutcome::wait);

}  // namespace

bool Runner::count_transition(Run& run, Branch& b) {
    if (++run.transitions <= static_cast<std::size_t>(model_->max_transitions)) return true;
    run.fatal = true;
    record_failure(
        run, b,
        {"MaxTransitions", fmt::format("more than {} transitions (max_transitions)", model_->max_transitions),
         model_->qualified(b.network, b.state)});
    return false;
}

Runner::Status Runner::record_failure(Run& run, Branch& b, ErrorInfo error) {
    if (!b.compensations.empty()) compensate(b, error);
    if (run.steps && b.step) run.steps->step_failed(b.step, error);
    b.error = std::move(error);
    b.status = Status::failed;
    return b.status;
}

ErrorInfo Runner::pcall_error(std::string state) {
    lua_State* L = program_.state();
    ErrorInfo error{"LuaError", "", std::move(state)};
    if (lua_istable(L, -1)) {
        lua_getfield(L, -1, "name");
        if (!lua_isnil(L, -1)) error.name = lua_text(L, -1);
        lua_getfield(L, -2, "message");
        error.message = lua_isnil(L, -1) ? error.name : lua_text(L, -1);
        lua_pop(L, 2);
    } else {
        error.message = lua_text(L, -1);
    }
    lua_pop(L, 1);
    if (program_.vm().limits().refused())
        error = {"OutOfMemory", "the Lua memory limit was reached (limits.memory_mb)", error.state};
    return error;
}

Runner::Status Runner::step(Run& run, Branch& b, std::vector<Branch>& spawned) {
    const State& s = model_->state(b.network, b.state);
    if (!b.entered) {
        b.entered = true;
        b.path.push_back(&model_->qualified(b.network, b.state));
        b.attempt = b.path.size() == 1 ? run.first_attempt : 0;
        b.retry_counts.assign(s.retry.size(), 0);
    }
    if (cancelled_ && *cancelled_) {
        run.fatal = true;
        return record_failure(run, b, {"Cancelled", "another branch decided the join", *b.path.back()});
    }
    if (run.deadline > 0 && engine_->clock->now_ms() > run.deadline) {
        run.fatal = true;
        return record_failure(
            run, b, {"Timeout", fmt::format("record exceeded timeout_ms = {}", model_->timeout_ms), *b.path.back()});
    }
    observe_step_start(run, b, s, b.attempt);
    if (!s.resources.empty())
        if (auto error = acquire_resources(s, *b.path.back())) return fail(run, b, std::move(*error));
    const bool guarded = tx_.guards();
    if (guarded) {
        try {
            tx_.begin_step();
        } catch (const std::exception& e) {
            return fail(run, b, {"ResourceError", e.what(), *b.path.back()});
        }
    }
    // A state with recovery strategies is guarded by them, except while its fallback
    // runs (the fallback is what the record does instead of the guarded work).
    const bool fallback = b.in_fallback;
    const bool strategic = strategies_ && s.strategies.any() && !fallback;
    if (strategic)
        if (auto refused = admit(s)) {
            if (guarded) tx_.end_step(true);
            observe_step_end(run, b, StepEnd::failed, &*refused);
            return fail(run, b, std::move(*refused));
        }
    // Without timeouts, held connections, breadth-first branches, recovery strategies or
    // history's per-step changes, nothing needs C++ between two plain states: step_chain
    // runs on through them in one call (telling chained_step of each arc when history
    // records steps). A cancellable run (a concurrent branch) comes back after each state.
    const bool chained =
        !tracking_changes_ && !run.breadth_first && run.deadline == 0 && !guarded && !cancelled_ && !s.strategies.any();
    lua_State* L = program_.state();
    StackGuard guard(L);
    const int nargs = push_step_args(run, b, chained);
    // The limit stays in scope while the error is read: pcall_error asks it whether
    // the allocator refused memory.
    CallLimit limit(program_.vm().limits(), L, run.deadline > 0 ? run.deadline - engine_->clock->now_ms() : 0,
                    model_->timeout_ms, strategic ? s.strategies.deadline_ms : 0);
    if (chained && run.steps) {
        chained_run_ = &run;
        chained_branch_ = &b;
    }
    const bool raised = lua_pcall(L, nargs, chained ? 4 : 3, 0) != 0;
    chained_run_ = nullptr;
    chained_branch_ = nullptr;
    if (chained) {
        // A call that raised ends in the state it went on into last (its error is that state's).
        enter_chained(run, b, raised ? chained_count() : static_cast<int>(lua_tointeger(L, -1)));
        if (!raised) lua_pop(L, 1);
    }
    const int code = raised ? step_fail : static_cast<int>(lua_tointeger(L, -3));
    if (guarded) tx_.end_step(code == step_fail);
    const State& last = model_->state(b.network, b.state);  // s, unless step_chain went on
    if (raised || code == step_fail) {
        ErrorInfo error =
            raised ? pcall_error(*b.path.back()) : ErrorInfo{lua_text(L, -2), lua_text(L, -1), *b.path.back()};
        if (!raised && error.name == "NoTransition" &&
            std::any_of(last.arcs.begin(), last.arcs.end(), [](const Arc& arc) { return !arc.immediate(); }))
            error.message += " (its 'on' and 'after_ms' arcs fire only for machines)";
        if (strategic) strategy_outcome(s, &error);
        observe_step_end(run, b, StepEnd::failed, &error);
        // An interrupted call (lua/limits.hpp) is record-level, as timeout_ms is.
        if (raised && error.name == "Timeout") {
            run.fatal = true;
            return record_failure(run, b, std::move(error));
        }
        return fail(run, b, std::move(error));
    }
    if (strategic) strategy_outcome(s, nullptr);
    if (fallback && strategies_) strategies_->count(s, StrategyCount::fallbacks);
    b.in_fallback = false;
    if (!s.strategies.compensate.empty() && !fallback) b.compensations.emplace_back(b.network, b.state);
    observe_step_end(run, b, code == step_end ? StepEnd::end : StepEnd::ok, nullptr);
    switch (code) {
    case step_end: return finish(run, b);
    case step_parallel: return run_parallel(run, b, last);
    case step_map: return run_map(run, b, last);
    case step_wait: return park(run, b, last);
    case step_arc: {
        // The condition's reason is for history only.
        const std::string_view reason = run.steps ? reason_at(L, -1) : std::string_view();
        return take_arc(run, b, last.arcs[static_cast<std::size_t>(lua_tointeger(L, -2))], reason);
    }
    case step_branches: break;
    default: throw std::logic_error("statenet runtime: bad step result");
    }
    return spawn_branches(run, b, s, spawned);
}

// The runtime's step function for this step and its arguments: the state, the slot,
// the attempt, the error that routed here, and what the function needs besides.
int Runner::push_step_args(const Run& run, const Branch& b, bool chained) {
    const RuntimeRefs& refs = program_.refs();
    lua_State* L = program_.state();
    lua_rawgeti(L, LUA_REGISTRYINDEX, run.breadth_first ? refs.step_all : chained ? refs.step_chain : refs.step);
    lua_pushinteger(L, model_->state(b.network, b.state).id);
    lua_pushinteger(L, b.slot);
    lua_pushinteger(L, b.attempt);
    if (b.entry_error) {
        lua_pushlstring(L, b.entry_error->name.data(), b.entry_error->name.size());
        lua_pushlstring(L, b.entry_error->message.data(), b.entry_error->message.size());
        lua_pushlstring(L, b.entry_error->state.data(), b.entry_error->state.size());
    } else {
        lua_pushnil(L);
        lua_pushnil(L);
        lua_pushnil(L);
    }
    if (run.breadth_first) {
        lua_pushboolean(L, run.deep);
        return 7;
    }
    if (chained) {
        lua_pushinteger(L,
                        static_cast<lua_Integer>(model_->max_transitions) - static_cast<lua_Integer>(run.transitions));
        lua_pushboolean(L, run.steps != nullptr);
        return 8;
    }
    lua_pushboolean(L, b.in_fallback);
    return 7;
}

// Breadth-first: every passing arc of state `s` is a branch; the first goes on as `b`,
// the others are spawned, each with its own copy of the callers' data it may return to.
Runner::Status Runner::spawn_branches(Run& run, Branch& b, const State& s, std::vector<Branch>& spawned) {
    const RuntimeRefs& refs = program_.refs();
    lua_State* L = program_.state();
    int n = static_cast<int>(lua_tointeger(L, -2));
    int old_slot = b.slot;
    const Branch proto = b;
    for (int i = 1; i <= n; ++i) {
        lua_rawgeti(L, LUA_REGISTRYINDEX, refs.branch_out);
        lua_pushinteger(L, i);
        lua_call(L, 1, 2);
        int slot = static_cast<int>(lua_tointeger(L, -2));
        const Arc& arc = s.arcs[static_cast<std::size_t>(lua_tointeger(L, -1))];
        lua_pop(L, 2);
        Branch* target = &b;
        if (i > 1) {
            // A new branch needs its own copy of every caller's data it may return to.
            target = &spawned.emplace_back(proto);
            for (auto& frame : target->frames)
                frame.parent_slot = program_.call_int(refs.clone, {double(frame.parent_slot), run.deep ? 1.0 : 0.0});
        }
        target->slot = slot;
        target->status = take_arc(run, *target, arc);
    }
    program_.call_void(refs.free, {double(old_slot)});
    return b.status;
}

// How many states the last step_chain call went on into, also when it raised.
int Runner::chained_count() {
    lua_State* L = program_.state();
    lua_rawgeti(L, LUA_REGISTRYINDEX, program_.refs().chain);
    lua_rawgeti(L, -1, 0);
    const int count = static_cast<int>(lua_tointeger(L, -1));
    lua_pop(L, 2);
    return count;
}

void Runner::install_step_hook() {
    lua_State* L = program_.state();
    StackGuard guard(L);
    program_.vm().push_runtime("set_step_hook");
    lua_pushlightuserdata(L, reinterpret_cast<void*>(&Runner::chained_step));
    lua_pushlightuserdata(L, this);
    lua_call(L, 2, 0);
}

// Called from Lua (FFI) between two chained states, so it touches no Lua state and
// throws nothing: the step just run ended ok and took an arc into `to`, whose step starts.
void Runner::chained_step(void* self, int to, const char* reason, std::size_t length) noexcept {
    auto& runner = *static_cast<Runner*>(self);
    if (!runner.chained_run_) return;
    Run& run = *runner.chained_run_;
    Branch& b = *runner.chained_branch_;
    try {
        const int target = runner.state_index_[static_cast<std::size_t>(to)];
        runner.observe_step_end(run, b, StepEnd::ok, nullptr);
        runner.observe_route(run, b, b.network, target, StepVia::arc,
                             reason ? std::string_view(reason, length) : std::string_view());
        runner.observe_step_start(run, b, runner.model_->state(b.network, target), 0);
    } catch (...) {
        // Out of memory for a history row: the run goes on without it.
    }
}

// The states step_chain went on into, after the one it was called for: each is an arc
// taken and a state entered, as take_arc and step would have recorded them.
void Runner::enter_chained(Run& run, Branch& b, int count) {
    const RuntimeRefs& refs = program_.refs();
    if (count == 0) return;
    lua_State* L = program_.state();
    lua_rawgeti(L, LUA_REGISTRYINDEX, refs.chain);
    for (int i = 1; i <= count; ++i) {
        lua_rawgeti(L, -1, i);
        const int sid = static_cast<int>(lua_tointeger(L, -1));
        lua_pop(L, 1);
        ++run.transitions;  // within the budget step_chain was given
        const int to = state_index_[static_cast<std::size_t>(sid)];
        if (to != b.state) b.previous = b.state;
        b.state = to;
        b.path.push_back(&model_->qualified(b.network, b.state));
        b.attempt = 0;
        b.retry_counts.assign(model_->state(b.network, b.state).retry.size(), 0);
        b.entry_error.reset();
    }
    lua_pop(L, 1);
}

Runner::Status Runner::take_arc(Run& run, Branch& b, const Arc& arc, std::string_view reason) {
    const RuntimeRefs& refs = program_.refs();
    if (!count_transition(run, b)) return Status::failed;
    b.entry_error.reset();
    if (!arc.is_push()) {
        const int to = arc.to_previous ? b.previous : arc.to;
        if (to < 0)
            return fail(run, b,
                        {"NoPreviousState", "an arc to '@previous' fired, but the record came from no other state",
                         *b.path.back()});
        observe_route(run, b, b.network, to, StepVia::arc, reason);
        if (to != b.state) b.previous = b.state;  // a self-transition keeps it
        b.state = to;
        b.entered = false;
        return Status::running;
    }
    if (b.frames.size() >= static_cast<std::size_t>(max_push_depth)) {
        program_.call_void(refs.restore, {double(b.slot)});
        return fail(run, b,
                    {"PushFailed",
                     fmt::format("push depth limit ({}) exceeded pushing into network '{}'", max_push_depth,
                                 model_->networks[arc.push_network].name),
                     *b.path.back()});
    }
    int child = program_.call_int(refs.push, {double(b.slot), double(arc.id), run.deep ? 1.0 : 0.0});
    observe_route(run, b, arc.push_network, arc.push_state, StepVia::push, reason);
    b.frames.push_back(Frame{b.network, b.state, &arc, b.slot, b.attempt, b.retry_counts, b.step});
    b.slot = child;
    b.network = arc.push_network;
    b.previous = -1;
    b.state = arc.push_state;
    b.entered = false;
    return Status::running;
}

Runner::Status Runner::fail(Run& run, Branch& b, ErrorInfo error) {
    const RuntimeRefs& refs = program_.refs();
    // A failing fallback is not retried, nor does it fall back again.
    bool fallback_failed = std::exchange(b.in_fallback, false);
    for (;;) {
        if (run.steps && b.step) run.steps->step_failed(b.step, error);
        const State& s = model_->state(b.network, b.state);
        for (std::size_t i = 0; i < s.retry.size() && !fallback_failed; ++i) {
            const Retrier& r = s.retry[i];
            if (!error_matches(r.errors, error.name)) continue;
            // Step Functions: the first matching retrier decides; once it is spent,
            // the error goes on to on_error.
            if (b.retry_counts[i] < r.attempts) {
                double delay = retry_delay_ms(r, b.retry_counts[i], rng_);
                if (run.deadline > 0 && engine_->clock->now_ms() + delay > run.deadline) {
                    run.fatal = true;
                    return record_failure(
                        run, b,
                        {"Timeout",
                         fmt::format("record would exceed timeout_ms = {} waiting to retry after {}: {}",
                                     model_->timeout_ms, error.name, error.message),
                         error.state});
                }
                if (delay > 0) engine_->clock->sleep_ms(delay);
                if (strategies_) strategies_->count(s, StrategyCount::retries);
                ++b.retry_counts[i];
                ++b.attempt;
                observe_route(run, b, b.network, b.state, StepVia::retry);
                return Status::running;
            }
            break;
        }
        // `fallback`: once retries are spent the state runs its fallback functions on the
        // data it was entered with (ctx.error set), and goes on from there.
        if (!fallback_failed && !s.strategies.fallback.empty()) {
            b.in_fallback = true;
            observe_route(run, b, b.network, b.state, StepVia::on_error);
            b.entry_error = std::move(error);
            return Status::running;
        }
        fallback_failed = false;
        for (const Catcher& c : s.on_error) {
            if (!error_matches(c.errors, error.name)) continue;
            if (c.compensate && !b.compensations.empty()) compensate(b, error);
            if (!count_transition(run, b)) return Status::failed;
            observe_route(run, b, b.network, c.to, StepVia::on_error);
            if (c.to != b.state) b.previous = b.state;
            b.state = c.to;
            b.entered = false;
            b.entry_error = std::move(error);
            return Status::running;
        }
        if (b.frames.empty()) return record_failure(run, b, std::move(error));
        // The sub-network failed: the pushing state fails, rolled back to its entry.
        Frame frame = std::move(b.frames.back());
        b.frames.pop_back();
        program_.call_void(refs.free, {double(b.slot)});
        program_.call_void(refs.restore, {double(frame.parent_slot)});
        b.slot = frame.parent_slot;
        b.network = frame.network;
        b.state = frame.state;
        b.previous = -1;
        b.attempt = frame.attempt;
        b.retry_counts = std::move(frame.retry_counts);
        b.step = frame.step;
        b.entered = true;
        b.entry_error.reset();
    }
}

Runner::Status Runner::finish(Run& run, Branch& b) {
    const RuntimeRefs& refs = program_.refs();
    const State* end_state = &model_->state(b.network, b.state);
    const bool emit = end_state->emit;
    while (!b.frames.empty()) {
        Frame frame = std::move(b.frames.back());
        b.frames.pop_back();
        program_.call_void(refs.pop, {double(b.slot), double(frame.parent_slot), double(frame.arc->id)});
        b.slot = frame.parent_slot;
        b.network = frame.network;
        b.state = frame.state;
        if (frame.arc->return_to >= 0) {
            b.step = frame.step;
            if (!count_transition(run, b)) return Status::failed;
            b.parent = frame.step;
            b.via = StepVia::ret;
            b.previous = frame.state;
            b.state = frame.arc->return_to;
            b.entered = false;
            b.entry_error.reset();
            return Status::running;
        }
    }
    b.final_state = end_state;
    b.emit = emit;
    b.status = Status::finished;
    return b.status;
}

void Runner::track_changes(bool on) {
    lua_State* L = program_.state();
    StackGuard guard(L);
    program_.vm().push_runtime("track_steps");
    lua_pushboolean(L, on);
    lua_call(L, 1, 0);
    tracking_changes_ = on;
}

void Runner::observe_step_end(Run& run, const Branch& b, StepEnd end, const ErrorInfo* error) {
    const RuntimeRefs& refs = program_.refs();
    if (!run.steps) return;
    // One clock read per step: a step starts when the one before it ended (or the run
    // began), so the routing in between counts to the next step.
    const auto now = TickClock::now();
    const auto took = now - run.step_started;
    run.step_started = now;
    if (end == StepEnd::failed || !tracking_changes_) {
        run.steps->step_ended(b.step, end, error, took, nullptr);
        return;
    }
    lua_State* L = program_.state();
    StackGuard guard(L);
    lua_rawgeti(L, LUA_REGISTRYINDEX, refs.step_changes);
    lua_call(L, 0, 1);
    Value changes;
    try {
        changes = read_value(L, -1, program_.convert());
    } catch (const ConvertError& e) {
        changes = Value::object({{"unreadable", e.what()}});
    }
    run.steps->step_ended(b.step, end, nullptr, took, &changes);
}

void Runner::observe_step_start(Run& run, Branch& b, const State& s, int attempt) {
    if (!run.steps) return;
    b.step = run.steps->step_started(b.parent, b.via, s, attempt, b.depth_offset + static_cast<int>(b.frames.size()));
}

void Runner::observe_route(Run& run, Branch& b, int network, int state, StepVia via, std::string_view reason) {
    if (!run.steps) return;
    run.steps->routed(b.step, model_->state(network, state), reason);
    b.parent = b.step;
    b.via = via;
}

}  // namespace statenet::detail
