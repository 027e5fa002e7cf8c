// Waiting for a signal: a record that reaches a `wait` state leaves the runner parked
// (its data, state and path handed to the park store), and a parked record goes on from
// its waiting state when its signal comes or its deadline passes.
#include "exec/branch.hpp"

#include <fmt/format.h>

#include <chrono>
#include <stdexcept>
#include <utility>

namespace statenet::detail {

std::int64_t unix_now_us() noexcept {
    using namespace std::chrono;
    return duration_cast<microseconds>(system_clock::now().time_since_epoch()).count();
}

Result Runner::resume(const ParkedRecord& parked, Value data, const std::optional<Value>& signal,
                      const RunOptions& options) {
    int network = -1, state = -1;
    for (std::size_t n = 0; n < model_->networks.size() && state < 0; ++n)
        for (std::size_t i = 0; i < model_->networks[n].states.size(); ++i)
            if (model_->networks[n].states[i].qualified == parked.state) {
                network = static_cast<int>(n);
                state = static_cast<int>(i);
            }
    if (state < 0 || !model_->state(network, state).wait || parked.path.empty())
        throw std::invalid_argument(
            fmt::format("workflow '{}' has no wait state '{}' any more", model_->name, parked.state));
    const DataMode mode = options.mode.value_or(model_->mode);
    const ResumePoint from{&parked, network, state, &signal};
    return run_once(std::move(data), mode == DataMode::reference ? DataMode::copy : mode, 0, options, nullptr, nullptr,
                    false, &from);
}

// The record is back in a slot at its waiting state: ctx.signal is the payload, and the
// state's arcs are chosen as its step would have (or it fails with SignalTimeout).
void Runner::start_resumed(Run& run, Branch& b, int first_slot) {
    const ResumePoint& from = *run.resumed;
    const State& s = model_->state(from.network, from.state);
    b.reset(first_slot, from.network, from.state);
    b.entered = true;
    b.path.push_back(&s.qualified);
    b.retry_counts.assign(s.retry.size(), 0);
    // `to = "@previous"`: the last state of this network the record was in before it waited.
    const Network& net = model_->networks[static_cast<std::size_t>(from.network)];
    const auto& path = from.parked->path;
    for (auto it = path.rbegin() + 1; it < path.rend() && b.previous < 0; ++it)
        if (it->size() > net.name.size() && it->starts_with(net.name) && (*it)[net.name.size()] == '/')
            b.previous = net.find(std::string_view(*it).substr(net.name.size() + 1));
    lua_State* L = program_.state();
    StackGuard guard(L);
    program_.vm().push_runtime("resume");
    lua_pushinteger(L, s.id);
    if (from.signal->has_value()) push_value(L, **from.signal, program_.convert());
    else lua_pushnil(L);
    lua_call(L, 2, 0);
    b.status = resume_step(run, b);
}

Runner::Status Runner::resume_step(Run& run, Branch& b) {
    const ResumePoint& from = *run.resumed;
    const State& s = model_->state(b.network, b.state);
    if (run.steps) b.step = run.steps->step_started(0, StepVia::start, s, 0, 0);
    if (!from.signal->has_value()) {
        ErrorInfo error{"SignalTimeout",
                        fmt::format("no signal '{}' came within timeout_ms = {}", s.wait->signal, s.wait->timeout_ms),
                        s.qualified};
        observe_step_end(run, b, StepEnd::failed, &error);
        return fail(run, b, std::move(error));
    }
    if (!s.resources.empty())
        if (auto error = acquire_resources(s, s.qualified)) return fail(run, b, std::move(*error));
    observe_step_end(run, b, StepEnd::ok, nullptr);
    return route_after_join(run, b, s);
}

// The record parks where it is: only from the main network (push frames and their
// records live in this process alone; the loader keeps wait states out of the others).
Runner::Status Runner::park(Run& run, Branch& b, const State& s) {
    if (!b.frames.empty())
        return fail(
            run, b,
            {"WaitFailed",
             fmt::format("state '{}' cannot wait inside a sub-network (the record was pushed into it)", s.qualified),
             s.qualified});
    if (run.reference)
        return fail(run, b, {"WaitFailed", "a reference-mode record cannot wait for a signal", s.qualified});
    if (!park_store_) return fail(run, b, {"WaitFailed", no_park_database, s.qualified});
    b.final_state = &s;
    return Status::parked;
}

// What the park store keeps: the record's data as JSON, where it waits and how it got there.
void Runner::collect_parked(Run& run, const Branch& b, Value& input, Result& result) {
    const State& s = *b.final_state;
    const bool lean = std::exchange(run.lean, false);  // a parked record keeps its path and id, lean or not
    ParkedRecord p;
    p.run_id = run_id();
    p.state = s.qualified;
    p.signal = s.wait->signal;
    if (s.wait->timeout_ms > 0) p.deadline_us = unix_now_us() + static_cast<std::int64_t>(s.wait->timeout_ms * 1000);
    if (run.json_out) {
        json_.write(b.slot, p.data);
        if (run.json_always) *run.json_out = p.data;
    } else {
        result.data = read_record(b.slot, input);
        p.data = result.data.to_json();
    }
    p.path = path_of(run, b);
    p.transitions = static_cast<std::int64_t>(run.transitions);
    p.position = run.position;
    run.lean = lean;
    result.parked = true;
    result.signal = p.signal;
    result.final_state = s.qualified;
    result.run_id = p.run_id;
    if (!lean) result.path = p.path;
    run.parked = std::move(p);
}

// After the record's transaction committed: a record that cannot be parked fails.
void Runner::store_parked(Run& run, Result& result) {
    try {
        park_store_->park(*run.parked);
    } catch (const std::exception& e) {
        result.parked = false;
        result.error =
            ErrorInfo{"WaitFailed", fmt::format("could not park the record: {}", e.what()), result.final_state};
    }
}

}  // namespace statenet::detail
