// MachineVm: defines the machine plans of a workflow and calls statenet/machine.lua.
#include "machine/machine_vm.hpp"
#include "exec/retry.hpp"

#include "api/workflow_impl.hpp"
#include "resources/binding.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <stdexcept>

namespace statenet::detail {

namespace {

std::string text_at(lua_State* L, int index) {
    std::size_t len = 0;
    const char* s = lua_tolstring(L, index, &len);
    return s ? std::string(s, len) : std::string();
}

/// Field `name` of the table on top of the stack, as text ("" when absent).
std::string field_text(lua_State* L, const char* name) {
    lua_getfield(L, -1, name);
    std::string text = lua_isstring(L, -1) ? text_at(L, -1) : std::string();
    lua_pop(L, 1);
    return text;
}

}  // namespace

ErrorInfo pop_error(lua_State* L, std::string_view state) {
    ErrorInfo error{"LuaError", "", std::string(state)};
    if (lua_istable(L, -1)) {
        lua_getfield(L, -1, "name");
        if (lua_isstring(L, -1)) error.name = text_at(L, -1);
        lua_getfield(L, -2, "message");
        error.message = lua_isstring(L, -1) ? text_at(L, -1) : error.name;
        lua_pop(L, 3);
        return error;
    }
    error.message = pop_error_text(L);
    return error;
}

void check_machine_model(const Model& model, Diagnostics& diags) {
    auto refuse = [&](const Loc& loc, std::string_view what) {
        diags.error(loc, fmt::format("{} not supported by machines yet in this version of statenet", what));
    };
    if (model.strategy == Strategy::breadth_first) refuse(Loc{model.file, 0, 0}, "strategy 'breadth_first' is");
    if (model.mode == DataMode::reference) refuse(Loc{model.file, 0, 0}, "data_mode 'reference' is");
    if (model.transaction.strategy != TransactionConfig::Strategy::single)
        refuse(Loc{model.file, 0, 0}, "a [transaction] strategy other than 'single' is");
    for (const auto& net : model.networks)
        for (const auto& s : net.states) {
            if (s.parallel) refuse(s.parallel->loc, fmt::format("'parallel' (state '{}') is", s.qualified));
            if (s.map) refuse(s.map->loc, fmt::format("'map' (state '{}') is", s.qualified));
            // A machine instance already waits in every state, for events: `on` arcs.
            if (s.wait)
                diags.error(s.wait->loc, fmt::format("'wait' (state '{}') is for records: a machine instance waits for "
                                                     "events in every state; use an arc with on = \"{}\"",
                                                     s.qualified, s.wait->signal));
            if (s.mode == DataMode::reference)
                refuse(s.loc, fmt::format("data_mode 'reference' (state '{}') is", s.qualified));
            if (s.strategies.any())
                refuse(s.loc, fmt::format("a recovery strategy (circuit_breaker, bulkhead, deadline_ms, fallback, "
                                          "compensate, cache) in state '{}' is",
                                          s.qualified));
        }
}

MachineVm::MachineVm(const Workflow& workflow) : workflow_(workflow), model_(workflow.impl().model()) {
    Diagnostics diags;
    program_ = std::make_unique<Program>(model_, workflow.impl().engine, diags, ProgramFor::machines);
    if (!diags.empty()) throw LoadError(std::move(diags.list));
    states_.resize(static_cast<std::size_t>(model_->state_count));
    for (const auto& net : model_->networks)
        for (const auto& s : net.states) {
            states_[static_cast<std::size_t>(s.id)] = &s;
            direct_ = direct_ || s.mode.value_or(model_->mode) == DataMode::direct;
            for (const auto& arc : s.arcs) pushes_ = pushes_ || arc.is_push();
        }
    lua_State* L = program_->state();
    StackGuard guard(L);
    push_required(L, "statenet.machine");
    start_ = field_ref(L, "start");
    fire_ = field_ref(L, "fire");
    fire_timer_ = field_ref(L, "fire_timer");
    put_ = field_ref(L, "put");
    get_ = field_ref(L, "get");
    drop_ = field_ref(L, "drop");
    abort_ = field_ref(L, "abort");
    messages_ = field_ref(L, "messages");
    lua_getfield(L, -1, "setup");
    lua_pushboolean(L, model_->mode != DataMode::direct);
    lua_pushinteger(L, static_cast<lua_Integer>(model_->max_transitions));
    lua_pushlightuserdata(L, this);
    lua_pushcclosure(L, lua_recover, 1);
    lua_pushlightuserdata(L, this);
    lua_pushcclosure(L, lua_step, 1);
    lua_createtable(L, 0, static_cast<int>(model_->actions.size()));
    for (const MachineAction& action : model_->actions) {
        lua_pushboolean(L, 1);
        lua_setfield(L, -2, action.name.c_str());
    }
    // Copies of the data a push arc keeps must be deep when some state mutates in place.
    lua_pushboolean(L, direct_ || model_->mode == DataMode::direct);
    lua_call(L, 6, 0);
    pools_ = workflow.impl().current()->pools;
    install_resources();
}

// Network resources are bound once; the others are acquired when a function first reads
// ctx.resources.NAME during an event: an __index on the runtime's ctx.resources table.
void MachineVm::install_resources() {
    listed_.assign(model_->resources.size(), false);
    for (const State* s : states_)
        for (int id : s->resources) {
            listed_[static_cast<std::size_t>(id)] = true;
            transactional_ = transactional_ || !model_->resources[static_cast<std::size_t>(id)].network();
        }
    tx_ = std::make_unique<Transactions>(*model_, pools_, [](const std::string&) {});
    binder_ = std::make_unique<ResourceBinder>(*model_, *pools_, *program_, *tx_);
    lua_State* L = program_->state();
    StackGuard guard(L);
    program_->vm().push_runtime("ctx");
    lua_getfield(L, -1, "resources");
    pools_->network().bind(L, -1, program_->convert());
    lua_createtable(L, 0, 1);
    lua_pushlightuserdata(L, this);
    lua_pushcclosure(L, lua_acquire, 1);
    lua_setfield(L, -2, "__index");
    lua_setmetatable(L, -2);
    lua_pushvalue(L, -1);
    binder_->use_table(luaL_ref(L, LUA_REGISTRYINDEX));
}

// __index(resources, name): acquires a listed resource for the running event and
// returns its binding; nil for any other name.
int MachineVm::lua_acquire(lua_State* L) {
    auto* self = static_cast<MachineVm*>(lua_touserdata(L, lua_upvalueindex(1)));
    if (lua_type(L, 2) != LUA_TSTRING) return 0;
    const std::string name = lua_tostring(L, 2);
    const auto& resources = self->model_->resources;
    int id = -1;
    for (std::size_t i = 0; i < resources.size(); ++i)
        if (resources[i].name == name && self->listed_[i]) id = static_cast<int>(i);
    if (id < 0) return 0;
    {
        std::optional<ErrorInfo> error = self->binder_->acquire(id, self->where_);
        if (error) {
            push_located_error(L, error->name, error->message);
            error.reset();
            return lua_error(L);
        }
    }
    lua_pushvalue(L, 2);
    lua_rawget(L, 1);
    return 1;
}

int MachineVm::lua_step(lua_State* L) {
    auto* self = static_cast<MachineVm*>(lua_touserdata(L, lua_upvalueindex(1)));
    if (!self->transactional_) return 0;
    const auto what = lua_tointeger(L, 1);
    {
        std::string message;
        try {
            if (what == 0) {
                self->tx_->begin_step();
                self->step_open_ = true;
            } else {
                self->step_open_ = false;
                self->tx_->end_step(what == 2);
            }
            return 0;
        } catch (const std::exception& e) {
            message = e.what();
        }
        push_located_error(L, "ResourceError", message);
    }
    return lua_error(L);
}

MachineVm::~MachineVm() = default;

// recover(sid, error_name, counts) -> "retry", policy (1-based) | "route", state id | nil.
// The same rules as a record's (exec/steps.cpp): the first retrier matching the error
// decides, sleeping its back-off on the engine's clock while it has attempts left (`counts`
// holds the retries done per retrier since the state was entered); once spent, or with
// none matching, the first matching on_error catcher routes.
int MachineVm::lua_recover(lua_State* L) {
    auto* self = static_cast<MachineVm*>(lua_touserdata(L, lua_upvalueindex(1)));
    const State& s = self->state(static_cast<int>(lua_tointeger(L, 1)));
    const std::string name = text_at(L, 2);
    for (std::size_t i = 0; i < s.retry.size(); ++i) {
        const Retrier& r = s.retry[i];
        if (!error_matches(r.errors, name)) continue;
        lua_rawgeti(L, 3, static_cast<int>(i + 1));
        const int done = lua_isnumber(L, -1) ? static_cast<int>(lua_tointeger(L, -1)) : 0;
        lua_pop(L, 1);
        if (done < r.attempts) {
            const double delay = retry_delay_ms(r, done, self->rng_);
            if (delay > 0) self->workflow_.impl().engine->clock->sleep_ms(delay);
            lua_pushliteral(L, "retry");
            lua_pushinteger(L, static_cast<lua_Integer>(i + 1));
            return 2;
        }
        break;
    }
    for (const Catcher& c : s.on_error) {
        if (!error_matches(c.errors, name)) continue;
        lua_pushliteral(L, "route");
        lua_pushinteger(L, self->model_->state(s.network, c.to).id);
        return 2;
    }
    return 0;
}

const MachineAction* MachineVm::action(std::string_view name) const {
    for (const MachineAction& a : model_->actions)
        if (a.name == name) return &a;
    return nullptr;
}

int MachineVm::find_state(std::string_view qualified) const {
    for (const State* s : states_)
        if (s->qualified == qualified) return s->id;
    return -1;
}

double MachineVm::next_timer_ms(int sid, double checked_ms) const {
    double next = -1;
    for (const auto& arc : state(sid).arcs)
        if (arc.on.empty() && arc.after_ms >= 0 && arc.after_ms > checked_ms && (next < 0 || arc.after_ms < next))
            next = arc.after_ms;
    return next;
}

MachineStep MachineVm::call(int nargs, std::string_view state_name, int handle) {
    lua_State* L = program_->state();
    MachineStep step;
    where_.assign(state_name);
    // The data before the event, to put back if its resource work fails to commit
    // (copy mode leaves the old table untouched; direct mode reloads from the store).
    int before = LUA_NOREF, frames = LUA_NOREF;
    if (transactional_ && handle >= 0) {
        lua_rawgeti(L, LUA_REGISTRYINDEX, get_);
        lua_pushinteger(L, handle);
        lua_call(L, 1, 2);
        frames = luaL_ref(L, LUA_REGISTRYINDEX);
        before = luaL_ref(L, LUA_REGISTRYINDEX);
    }
    {
        CallLimit limit(program_->vm().limits(), L);
        if (lua_pcall(L, nargs, 7, 0) != 0) {
            step.code = MachineStep::Code::failed;
            step.error = pop_error(L, state_name);
            lua_rawgeti(L, LUA_REGISTRYINDEX, abort_);
            lua_call(L, 0, 0);
        } else {
            read_step(L, step);
        }
    }
    settle(step, handle, before, frames);
    luaL_unref(L, LUA_REGISTRYINDEX, before);
    luaL_unref(L, LUA_REGISTRYINDEX, frames);
    return step;
}

void MachineVm::settle(MachineStep& step, int handle, int before, int frames) {
    if (!transactional_) return;
    if (step_open_) {  // an error escaped a recovering state's attempt
        step_open_ = false;
        tx_->end_step(true);
    }
    std::vector<int> released;
    auto failure = tx_->end_record(step.code == MachineStep::Code::applied, released);
    binder_->unbind(released);
    if (!failure || step.code != MachineStep::Code::applied) return;
    if (step.messages > 0) take_messages();  // the event did not happen: nor did its messages
    step = MachineStep{};
    step.code = MachineStep::Code::failed;
    step.error = ErrorInfo{"ResourceError", std::move(*failure), where_};
    if (handle >= 0 && before != LUA_NOREF) {
        lua_State* L = program_->state();
        StackGuard guard(L);
        lua_rawgeti(L, LUA_REGISTRYINDEX, put_);
        lua_pushinteger(L, handle);
        lua_rawgeti(L, LUA_REGISTRYINDEX, before);
        lua_rawgeti(L, LUA_REGISTRYINDEX, frames);
        lua_call(L, 3, 0);
    }
}

void MachineVm::read_step(lua_State* L, MachineStep& step) {
    step.code = static_cast<MachineOutcome>(lua_tointeger(L, -7));
    if (step.code == MachineOutcome::applied) {
        step.state = static_cast<int>(lua_tointeger(L, -6));
        step.completed = lua_toboolean(L, -5);
        step.reason = text_at(L, -4);
        step.label = text_at(L, -3);
        step.previous = lua_isnumber(L, -2) ? static_cast<int>(lua_tointeger(L, -2)) : -1;
        step.messages = static_cast<int>(lua_tointeger(L, -1));
    } else if (step.code == MachineOutcome::rejected) {
        step.reason = text_at(L, -6);
    } else {
        step.code = MachineOutcome::failed;
        step.error = ErrorInfo{text_at(L, -6), text_at(L, -5), text_at(L, -4)};
    }
    lua_pop(L, 7);
}

MachineStep MachineVm::start(int handle, const Value& data, std::string_view id) {
    lua_State* L = program_->state();
    StackGuard guard(L);
    const Network& main = model_->networks[static_cast<std::size_t>(model_->main)];
    const State& entry = main.states[static_cast<std::size_t>(main.start)];
    lua_rawgeti(L, LUA_REGISTRYINDEX, start_);
    lua_pushinteger(L, handle);
    push_value(L, data, program_->convert());
    lua_pushinteger(L, entry.id);
    lua_pushlstring(L, id.data(), id.size());
    MachineStep step = call(4, entry.qualified);
    if (step.code != MachineStep::Code::applied) drop(handle);
    return step;
}

MachineStep MachineVm::fire(int handle, int sid, int previous, std::string_view event, const Value& payload,
                            std::string_view id) {
    lua_State* L = program_->state();
    StackGuard guard(L);
    lua_rawgeti(L, LUA_REGISTRYINDEX, fire_);
    lua_pushinteger(L, handle);
    lua_pushinteger(L, sid);
    lua_pushinteger(L, previous);
    lua_pushlstring(L, event.data(), event.size());
    push_value(L, payload, program_->convert());
    lua_pushlstring(L, id.data(), id.size());
    return call(6, state(sid).qualified, handle);
}

MachineStep MachineVm::fire_timer(int handle, int sid, int previous, double elapsed_ms, std::string_view id) {
    lua_State* L = program_->state();
    StackGuard guard(L);
    lua_rawgeti(L, LUA_REGISTRYINDEX, fire_timer_);
    lua_pushinteger(L, handle);
    lua_pushinteger(L, sid);
    lua_pushinteger(L, previous);
    lua_pushnumber(L, elapsed_ms);
    lua_pushlstring(L, id.data(), id.size());
    return call(5, state(sid).qualified, handle);
}

std::vector<MachineMessage> MachineVm::take_messages() {
    lua_State* L = program_->state();
    StackGuard guard(L);
    lua_rawgeti(L, LUA_REGISTRYINDEX, messages_);
    lua_call(L, 0, 1);
    std::vector<MachineMessage> out;
    const int n = static_cast<int>(lua_objlen(L, -1));
    for (int i = 1; i <= n; ++i) {
        lua_rawgeti(L, -1, i);
        MachineMessage m;
        m.topic = field_text(L, "topic");
        m.instance = field_text(L, "instance");
        m.event = field_text(L, "event");
        m.action = field_text(L, "action");
        lua_getfield(L, -1, "payload");
        if (!lua_isnil(L, -1)) m.payload = read_value(L, -1, program_->convert(), nullptr);
        lua_pop(L, 2);
        out.push_back(std::move(m));
    }
    return out;
}

void MachineVm::put(int handle, const Value& data) {
    lua_State* L = program_->state();
    StackGuard guard(L);
    lua_rawgeti(L, LUA_REGISTRYINDEX, put_);
    lua_pushinteger(L, handle);
    push_value(L, data, program_->convert());
    lua_call(L, 2, 0);
}

Value MachineVm::get(int handle, const Value* order) {
    lua_State* L = program_->state();
    StackGuard guard(L);
    lua_rawgeti(L, LUA_REGISTRYINDEX, get_);
    lua_pushinteger(L, handle);
    lua_call(L, 1, 1);
    if (lua_isnil(L, -1)) return Value::object();
    return read_value(L, -1, program_->convert(), order);
}

void MachineVm::drop(int handle) {
    lua_State* L = program_->state();
    StackGuard guard(L);
    lua_rawgeti(L, LUA_REGISTRYINDEX, drop_);
    lua_pushinteger(L, handle);
    lua_call(L, 1, 0);
}

}  // namespace statenet::detail
