// A runner's side of the recovery strategies: a state's breaker and bulkhead let a
// record in or refuse it, the step's outcome goes back to them, compensations run in
// reverse when a record fails, and the runtime reaches the result cache (docs/recovery.md).
#include "exec/branch.hpp"
#include "lua/convert.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace statenet::detail {

namespace {

// Objects with their members sorted, at every depth: a cache key reads the same
// whatever order a Lua table gave its fields in.
void sort_members(Value& v) {
    if (v.is_object()) {
        auto& members = v.as_object();
        std::sort(members.begin(), members.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
        for (auto& [name, member] : members) sort_members(member);
    } else if (v.is_array()) {
        for (auto& item : v.as_array()) sort_members(item);
    }
}

}  // namespace

void Runner::set_strategies(std::shared_ptr<SharedStrategies> strategies) {
    strategies_ = std::move(strategies);
    lua_State* L = program_.state();
    StackGuard guard(L);
    program_.vm().push_runtime("set_cache");
    lua_pushlightuserdata(L, this);
    lua_pushcclosure(L, lua_cache_get, 1);
    lua_pushlightuserdata(L, this);
    lua_pushcclosure(L, lua_cache_put, 1);
    lua_call(L, 2, 0);
}

std::optional<ErrorInfo> Runner::admit(const State& s) {
    const Strategies& st = s.strategies;
    if (st.breaker && !strategies_->breaker_admits(s, engine_->clock->now_ms()))
        return ErrorInfo{"CircuitOpen",
                         fmt::format("the circuit breaker of state {} is open (it lets a record try again {} ms "
                                     "after it opened)",
                                     s.qualified, st.breaker->reset_ms),
                         s.qualified};
    if (st.bulkhead > 0 && !strategies_->bulkhead_enter(s)) {
        if (st.breaker) strategies_->breaker_cancel(s);
        return ErrorInfo{"BulkheadFull",
                         fmt::format("state {} already holds {} records (bulkhead)", s.qualified, st.bulkhead),
                         s.qualified};
    }
    return std::nullopt;
}

void Runner::strategy_outcome(const State& s, const ErrorInfo* error) {
    const Strategies& st = s.strategies;
    if (st.bulkhead > 0) strategies_->bulkhead_leave(s);
    if (st.breaker) strategies_->breaker_outcome(s, error, engine_->clock->now_ms());
    if (error && error->name == "DeadlineExceeded") strategies_->count(s, StrategyCount::deadline_exceeded);
}

// Each compensation runs on the record as it stands, with ctx.error the failure that
// undoes the saga; one that fails is logged and the others still run.
void Runner::compensate(Branch& b, const ErrorInfo& error) {
    if (!strategies_) return;
    auto done = std::move(b.compensations);
    b.compensations.clear();
    lua_State* L = program_.state();
    for (auto it = done.rbegin(); it != done.rend(); ++it) {
        const State& s = model_->state(it->first, it->second);
        StackGuard guard(L);
        program_.vm().push_runtime("compensate");
        lua_pushinteger(L, s.id);
        lua_pushinteger(L, b.slot);
        lua_pushlstring(L, error.name.data(), error.name.size());
        lua_pushlstring(L, error.message.data(), error.message.size());
        lua_pushlstring(L, error.state.data(), error.state.size());
        CallLimit limit(program_.vm().limits(), L);
        if (lua_pcall(L, 5, 0, 0) == 0) {
            strategies_->count(s, StrategyCount::compensations);
            continue;
        }
        ErrorInfo failed = pcall_error(s.qualified);
        strategies_->count(s, StrategyCount::compensation_failures);
        warn(fmt::format("compensation of state {} failed: {}: {}", s.qualified, failed.name, failed.message));
    }
}

// runtime.lua's cache_get(state id, key table) -> the cached record or nil.
int Runner::lua_cache_get(lua_State* L) {
    auto* self = static_cast<Runner*>(lua_touserdata(L, lua_upvalueindex(1)));
    return guarded_call(L, "cache: ", [&] {
        const State& s = self->strategies_->state(static_cast<int>(lua_tointeger(L, 1)));
        Value key = read_value(L, 2, self->program_.convert());
        sort_members(key);
        auto hit = self->strategies_->cache_get(s, key.to_json());
        if (!hit) return 0;
        push_value(L, Value::from_json(*hit), self->program_.convert());
        return 1;
    });
}

// runtime.lua's cache_put(state id, key table, record).
int Runner::lua_cache_put(lua_State* L) {
    auto* self = static_cast<Runner*>(lua_touserdata(L, lua_upvalueindex(1)));
    return guarded_call(L, "cache: ", [&] {
        const State& s = self->strategies_->state(static_cast<int>(lua_tointeger(L, 1)));
        Value key = read_value(L, 2, self->program_.convert());
        sort_members(key);
        self->strategies_->cache_put(s, key.to_json(), read_value(L, 3, self->program_.convert()).to_json());
        return 0;
    });
}

}  // namespace statenet::detail
