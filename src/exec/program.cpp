// Program: the runtime set up in a VM, the workflow's functions resolved and its state
// plans (record and machine arcs alike) defined through statenet.runtime's define_state.
#include "exec/program.hpp"

#include "lua/sandbox.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <stdexcept>

namespace statenet::detail {

namespace {

int lua_log(lua_State* L) {
    auto* engine = static_cast<EngineImpl*>(lua_touserdata(L, lua_upvalueindex(1)));
    auto* refs = static_cast<ConvertRefs*>(lua_touserdata(L, lua_upvalueindex(2)));
    return guarded_call(L, "ctx.log: ", [&] {
        std::string level = lua_text(L, 1), state = lua_text(L, 2), message = lua_text(L, 3);
        Value fields = lua_isnoneornil(L, 4) ? Value::object() : read_value(L, 4, *refs);
        LogLevel lvl = level == "debug"   ? LogLevel::debug
                       : level == "warn"  ? LogLevel::warn
                       : level == "error" ? LogLevel::error
                                          : LogLevel::info;
        if (engine->log) engine->log(LogRecord{lvl, state, message, fields});
        return 0;
    });
}

std::string timer_label(double after_ms) { return fmt::format("after_ms={}", after_ms); }

/// How a runner's VM runs this workflow's code: its trust list, and its limits (the
/// workflow's `[limits]`, else the host's; docs/security.md).
SandboxConfig runner_sandbox(const Model& model, const EngineOptions& options) {
    SandboxConfig config;
    config.enabled = sandbox_enabled_by_environment();
    config.trust = model.sandbox.trust;
    config.call_ms = model.sandbox.call_ms.value_or(options.call_limit_ms);
    const double mb = model.sandbox.memory_mb.value_or(options.memory_limit_mb);
    config.memory_bytes = mb > 0 ? static_cast<std::size_t>(mb * 1024.0 * 1024.0) : 0;
    return config;
}

}  // namespace

std::string lua_text(lua_State* L, int index) {
    std::size_t len = 0;
    const char* s = lua_tolstring(L, index, &len);
    return s ? std::string(s, len) : std::string(luaL_typename(L, index));
}

std::string_view reason_at(lua_State* L, int index) {
    // The runtime hands reasons over as text already (runtime.lua's reason_text).
    if (lua_type(L, index) != LUA_TSTRING) return {};
    std::size_t length = 0;
    const char* text = lua_tolstring(L, index, &length);
    return std::string_view(text, length);
}

Program::Program(std::shared_ptr<const Model> model, const std::shared_ptr<EngineImpl>& engine, Diagnostics& diags,
                 ProgramFor use)
    : model_(std::move(model)),
      use_(use),
      vm_(model_->module_dirs, engine->stdlib_dir, model_->sources.get(), runner_sandbox(*model_, engine->options)) {
    setup(engine);
    resolve_functions(diags);
    if (diags.empty()) define_plans();
}

void Program::setup(const std::shared_ptr<EngineImpl>& engine) {
    lua_State* L = vm_.state();
    StackGuard guard(L);
    convert_.array_mt = vm_.ref_runtime("array_mt");
    convert_.materialize = vm_.ref_runtime("materialize");
    refs_.step = vm_.ref_runtime("step");
    refs_.step_all = vm_.ref_runtime("step_all");
    refs_.step_chain = vm_.ref_runtime("step_chain");
    refs_.chain = vm_.ref_runtime("chain");
    refs_.begin = vm_.ref_runtime("begin");
    refs_.begin_json = vm_.ref_runtime("begin_json");
    refs_.get = vm_.ref_runtime("get");
    refs_.push = vm_.ref_runtime("push");
    refs_.pop = vm_.ref_runtime("pop");
    refs_.restore = vm_.ref_runtime("restore");
    refs_.clone = vm_.ref_runtime("clone");
    refs_.free = vm_.ref_runtime("free");
    refs_.branch_out = vm_.ref_runtime("branch_out");
    refs_.changes = vm_.ref_runtime("changes");
    refs_.touch = vm_.ref_runtime("touch");
    refs_.step_changes = vm_.ref_runtime("step_changes");

    // statenet.null is a NULL light userdata, like cjson.null.
    vm_.push_runtime("api");
    lua_pushlightuserdata(L, nullptr);
    lua_setfield(L, -2, "null");
    lua_pop(L, 1);

    // The engine outlives every VM it made (workflows hold it).
    vm_.push_runtime("setup");
    push_value(L, model_->vars, convert_);
    lua_pushlightuserdata(L, engine.get());
    lua_pushlightuserdata(L, &convert_);
    lua_pushcclosure(L, lua_log, 2);
    push_value(L, model_->params, convert_);
    if (lua_pcall(L, 3, 0, 0) != 0) throw std::logic_error("runtime setup failed: " + pop_error_text(L));
}

void Program::resolve_functions(Diagnostics& diags) {
    lua_State* L = vm_.state();
    StackGuard guard(L);
    if (model_->lua_source) {
        vm_.push_runtime("load_workflow");
        if (load_user_file(L, model_->file, model_->sources.get()) != 0) {
            diags.error(Loc{model_->file, 1, 1}, lua_text(L, -1));
            return;
        }
        lua_call(L, 1, 2);
        if (lua_isnil(L, -2)) {
            diags.error(Loc{model_->file, 1, 1}, lua_text(L, -1));
            return;
        }
        lua_pop(L, 2);
    }
    lua_createtable(L, static_cast<int>(model_->functions.size()), 0);
    int table = lua_gettop(L);
    for (std::size_t i = 0; i < model_->functions.size(); ++i) {
        const FnRef& fn = model_->functions[i];
        vm_.push_runtime("resolve");
        switch (fn.kind) {
        case FnRef::Kind::named:
            lua_pushliteral(L, "named");
            lua_pushstring(L, fn.module.c_str());
            lua_pushstring(L, fn.function.c_str());
            lua_pushnil(L);
            break;
        case FnRef::Kind::factory:
            lua_pushliteral(L, "factory");
            lua_pushstring(L, fn.module.c_str());
            lua_pushstring(L, fn.function.c_str());
            push_value(L, fn.args.is_null() ? Value::object() : fn.args, convert_);
            break;
        case FnRef::Kind::inline_lua:
            lua_pushliteral(L, "inline");
            lua_pushlstring(L, fn.code.data(), fn.code.size());
            lua_pushnil(L);
            lua_pushnil(L);
            break;
        case FnRef::Kind::lua_value:
            lua_pushliteral(L, "value");
            lua_createtable(L, static_cast<int>(fn.path.size()), 0);
            for (std::size_t k = 0; k < fn.path.size(); ++k) {
                if (fn.path[k].is_index) lua_pushnumber(L, static_cast<lua_Number>(fn.path[k].index));
                else lua_pushstring(L, fn.path[k].key.c_str());
                lua_rawseti(L, -2, static_cast<int>(k + 1));
            }
            lua_pushnil(L);
            lua_pushnil(L);
            break;
        }
        lua_pushstring(L, fn.loc.file.c_str());
        lua_pushinteger(L, fn.loc.line);
        if (lua_pcall(L, 6, 2, 0) != 0) {
            diags.error(fn.loc, pop_error_text(L));
            continue;
        }
        if (lua_isnil(L, -2)) {
            diags.error(fn.loc, lua_text(L, -1));
            lua_pop(L, 2);
            continue;
        }
        lua_pop(L, 1);
        lua_rawseti(L, table, static_cast<int>(i + 1));
    }
    lua_setfield(L, LUA_REGISTRYINDEX, "statenet.functions");
}

void Program::push_fn(FnId id) {
    lua_State* L = vm_.state();
    lua_getfield(L, LUA_REGISTRYINDEX, "statenet.functions");
    lua_rawgeti(L, -1, id + 1);
    lua_remove(L, -2);
}

// A state's `entry` actions run first among its transforms, its `exit` actions first
// among each leaving arc's: they are the same kind of function (data, ctx) -> data.
std::vector<FnId> Program::joined(const std::vector<FnId>& first, const std::vector<FnId>& then) {
    if (first.empty()) return then;
    std::vector<FnId> all = first;
    all.insert(all.end(), then.begin(), then.end());
    return all;
}

void Program::push_fn_list(const std::vector<FnId>& ids, const char* field, const char* names_field) {
    lua_State* L = vm_.state();
    lua_getfield(L, LUA_REGISTRYINDEX, "statenet.functions");
    int fns = lua_gettop(L);
    lua_createtable(L, static_cast<int>(ids.size()), 0);
    lua_createtable(L, static_cast<int>(ids.size()), 0);
    for (std::size_t i = 0; i < ids.size(); ++i) {
        lua_rawgeti(L, fns, ids[i] + 1);
        lua_rawseti(L, -3, static_cast<int>(i + 1));
        std::string name = model_->functions[ids[i]].describe();
        lua_pushlstring(L, name.data(), name.size());
        lua_rawseti(L, -2, static_cast<int>(i + 1));
    }
    lua_setfield(L, fns - 1, names_field);
    lua_setfield(L, fns - 1, field);
    lua_pop(L, 1);
}

void Program::define_plans() {
    lua_State* L = vm_.state();
    StackGuard guard(L);
    for (const auto& net : model_->networks)
        for (const auto& s : net.states) {
            vm_.push_runtime("define_state");
            lua_pushinteger(L, s.id);
            push_state_plan(net, s);
            lua_call(L, 2, 0);
            define_push_arcs(s);
        }
    if (model_->branch_join) {
        // `[branches]`: how statenet/parallel.lua's join_branches merges breadth-first branches.
        vm_.push_runtime("define_branch_join");
        lua_newtable(L);
        push_parallel(*model_->branch_join);
        lua_getfield(L, -1, "parallel");
        lua_remove(L, -2);
        lua_call(L, 1, 0);
    }
}

void Program::push_state_plan(const Network& net, const State& s) {
    lua_State* L = vm_.state();
    lua_createtable(L, 0, 20);
    lua_pushstring(L, s.name.c_str());
    lua_setfield(L, -2, "name");
    lua_pushstring(L, s.qualified.c_str());
    lua_setfield(L, -2, "qualified");
    lua_pushstring(L, net.name.c_str());
    lua_setfield(L, -2, "network");
    if (s.mode) {
        lua_pushboolean(L, *s.mode == DataMode::copy);
        lua_setfield(L, -2, "copy");
    }
    if (!s.schema.empty()) {
        lua_createtable(L, static_cast<int>(s.schema.size()), 0);
        for (std::size_t i = 0; i < s.schema.size(); ++i) {
            lua_createtable(L, 3, 0);
            lua_pushstring(L, s.schema[i].field.c_str());
            lua_rawseti(L, -2, 1);
            lua_pushstring(L, s.schema[i].type.c_str());
            lua_rawseti(L, -2, 2);
            lua_pushboolean(L, s.schema[i].optional);
            lua_rawseti(L, -2, 3);
            lua_rawseti(L, -2, static_cast<int>(i + 1));
        }
        lua_setfield(L, -2, "schema");
    }
    push_fn_list(s.pre_validate, "pre", "pre_names");
    push_fn_list(joined(s.entry, s.transform), "tf", "tf_names");
    push_fn_list(s.validate, "post", "post_names");
    lua_pushboolean(L, s.is_end);
    lua_setfield(L, -2, "is_end");
    if (s.end_test) {
        push_fn(*s.end_test);
        lua_setfield(L, -2, "end_test");
    }
    lua_createtable(L, static_cast<int>(s.arcs.size()), 0);
    int planned = 0;
    for (int index : s.arc_order) {
        const Arc& arc = s.arcs[index];
        // Event and timer arcs fire only for machines (push_machine_arcs), never for records.
        if (!arc.immediate()) continue;
        lua_createtable(L, 0, 5);
        if (arc.when) {
            push_fn(*arc.when);
            lua_setfield(L, -2, "when");
        }
        push_fn_list(joined(s.exit, arc.transform), "tf", "tf_names");
        lua_pushinteger(L, arc.index);
        lua_setfield(L, -2, "index");
        lua_pushboolean(L, arc.is_push());
        lua_setfield(L, -2, "push");
        lua_rawseti(L, -2, ++planned);
    }
    lua_setfield(L, -2, "arcs");
    // Plain arcs into states that acquire no resources: step_chain may go on into them
    // without coming back to C++ (keyed by the arc's index).
    lua_createtable(L, 0, static_cast<int>(s.arcs.size()));
    for (const auto& arc : s.arcs) {
        if (arc.is_push() || !arc.immediate() || arc.to < 0) continue;
        const State& target = net.states[static_cast<std::size_t>(arc.to)];
        if (!target.resources.empty() || target.strategies.any()) continue;
        lua_pushinteger(L, target.id);
        lua_rawseti(L, -2, arc.index);
    }
    lua_setfield(L, -2, "chain");
    push_strategies(s);
    if (s.parallel) push_parallel(*s.parallel);
    if (s.map) {
        lua_pushboolean(L, 1);
        lua_setfield(L, -2, "map");
    }
    if (s.wait) {
        lua_pushboolean(L, 1);
        lua_setfield(L, -2, "wait");
    }
    if (use_ == ProgramFor::machines) push_machine_arcs(s);
}

// `parallel`: how runtime.lua's join merges the branches (names by branch, 1-based).
void Program::push_parallel(const Parallel& p) {
    lua_State* L = vm_.state();
    lua_createtable(L, 0, 4);
    lua_createtable(L, static_cast<int>(p.branches.size()), 0);
    for (std::size_t i = 0; i < p.branches.size(); ++i) {
        lua_pushstring(L, model_->networks[static_cast<std::size_t>(p.branches[i])].name.c_str());
        lua_rawseti(L, -2, static_cast<int>(i + 1));
    }
    lua_setfield(L, -2, "names");
    const char* mode = p.merge == Parallel::Merge::namespaced ? "namespaced"
                       : p.merge == Parallel::Merge::deep     ? "deep"
                                                              : "fn";
    lua_pushstring(L, mode);
    lua_setfield(L, -2, "mode");
    if (p.merge_fn) {
        push_fn(*p.merge_fn);
        lua_setfield(L, -2, "fn");
        const std::string name = model_->functions[static_cast<std::size_t>(*p.merge_fn)].describe();
        lua_pushlstring(L, name.data(), name.size());
        lua_setfield(L, -2, "fn_name");
    }
    lua_setfield(L, -2, "parallel");
}

// What a machine instance waiting in the state may take (statenet/machine.lua):
// `events[name]`, `timers` (by due time: the earliest due fires) and `now` (immediate
// arcs), each a list of { to, when, tf, tf_names, after, label } in the order tried.
// What the runtime does for a state's recovery strategies (the rest is in C++, around
// the step): its fallback and compensation functions, and what keys its cache.
void Program::push_strategies(const State& s) {
    lua_State* L = vm_.state();
    const Strategies& st = s.strategies;
    lua_pushinteger(L, s.id);
    lua_setfield(L, -2, "id");
    if (!st.fallback.empty()) push_fn_list(st.fallback, "fallback", "fallback_names");
    if (!st.compensate.empty()) push_fn_list(st.compensate, "compensate", "compensate_names");
    if (st.cache) {
        lua_createtable(L, static_cast<int>(st.cache->key.size()), 0);
        for (std::size_t i = 0; i < st.cache->key.size(); ++i) {
            lua_pushlstring(L, st.cache->key[i].data(), st.cache->key[i].size());
            lua_rawseti(L, -2, static_cast<int>(i + 1));
        }
        lua_setfield(L, -2, "cache_key");
    }
}

void Program::push_machine_arcs(const State& s) {
    lua_State* L = vm_.state();
    lua_pushboolean(L, !s.retry.empty() || !s.on_error.empty());
    lua_setfield(L, -2, "recovers");
    std::map<std::string, std::vector<const Arc*>> events;
    std::vector<const Arc*> timers, now;
    std::vector<const Arc*> pushes;
    for (int index : s.arc_order) {
        const Arc* arc = &s.arcs[static_cast<std::size_t>(index)];
        if (arc->is_push()) pushes.push_back(arc);
        if (!arc->on.empty()) events[arc->on].push_back(arc);
        else if (arc->after_ms >= 0) timers.push_back(arc);
        else now.push_back(arc);
    }
    std::stable_sort(timers.begin(), timers.end(),
                     [](const Arc* a, const Arc* b) { return a->after_ms < b->after_ms; });
    auto push_list = [&](const std::vector<const Arc*>& arcs) {
        lua_createtable(L, static_cast<int>(arcs.size()), 0);
        for (std::size_t i = 0; i < arcs.size(); ++i) {
            const Arc& arc = *arcs[i];
            lua_createtable(L, 0, 7);
            if (arc.is_push()) {
                push_machine_push(arc, s.network);
                lua_setfield(L, -2, "push");
            } else {
                // -1: `to = "@previous"`, the state the instance came from
                lua_pushinteger(L, arc.to_previous ? -1 : model_->state(s.network, arc.to).id);
                lua_setfield(L, -2, "to");
            }
            if (arc.when) {
                push_fn(*arc.when);
                lua_setfield(L, -2, "when");
            }
            push_fn_list(joined(s.exit, arc.transform), "tf", "tf_names");
            lua_pushnumber(L, arc.after_ms);
            lua_setfield(L, -2, "after");
            const std::string label = arc.on.empty() ? timer_label(arc.after_ms) : arc.on;
            lua_pushlstring(L, label.data(), label.size());
            lua_setfield(L, -2, "label");
            lua_rawseti(L, -2, static_cast<int>(i + 1));
        }
    };
    lua_createtable(L, 0, static_cast<int>(events.size()));
    for (const auto& [name, arcs] : events) {
        push_list(arcs);
        lua_setfield(L, -2, name.c_str());
    }
    lua_setfield(L, -2, "events");
    push_list(timers);
    lua_setfield(L, -2, "timers");
    push_list(now);
    lua_setfield(L, -2, "now");
    if (pushes.empty()) return;
    // By arc index: where a stored push frame (an instance inside the sub-network) returns.
    lua_createtable(L, 0, static_cast<int>(pushes.size()));
    for (const Arc* arc : pushes) {
        push_machine_push(*arc, s.network);
        lua_rawseti(L, -2, arc->index);
    }
    lua_setfield(L, -2, "pushes");
}

// A machine's push arc (statenet/machine_stack.lua): { aid, to (the sub-network's entry
// state), ret (return_to, nil: end there), index, copy, net }.
void Program::push_machine_push(const Arc& arc, int network) {
    lua_State* L = vm_.state();
    const Network& sub = model_->networks[static_cast<std::size_t>(arc.push_network)];
    lua_createtable(L, 0, 6);
    lua_pushinteger(L, arc.id);
    lua_setfield(L, -2, "aid");
    lua_pushinteger(L, sub.states[static_cast<std::size_t>(arc.push_state)].id);
    lua_setfield(L, -2, "to");
    if (arc.return_to >= 0) {
        lua_pushinteger(L, model_->state(network, arc.return_to).id);
        lua_setfield(L, -2, "ret");
    }
    lua_pushinteger(L, arc.index);
    lua_setfield(L, -2, "index");
    lua_pushboolean(L, arc.isolation_copy);
    lua_setfield(L, -2, "copy");
    lua_pushlstring(L, sub.name.data(), sub.name.size());
    lua_setfield(L, -2, "net");
}

void Program::define_push_arcs(const State& s) {
    lua_State* L = vm_.state();
    for (const auto& arc : s.arcs) {
        if (!arc.is_push()) continue;
        vm_.push_runtime("define_arc");
        lua_pushinteger(L, arc.id);
        lua_createtable(L, 0, 3);
        lua_pushboolean(L, arc.isolation_copy);
        lua_setfield(L, -2, "copy");
        auto push_map = [&](const FieldMap& map, const char* field) {
            if (map.empty()) return;
            lua_createtable(L, static_cast<int>(map.size() * 2), 0);
            int i = 1;
            for (const auto& [from, to] : map) {
                lua_pushstring(L, from.c_str());
                lua_rawseti(L, -2, i++);
                lua_pushstring(L, to.c_str());
                lua_rawseti(L, -2, i++);
            }
            lua_setfield(L, -2, field);
        };
        push_map(arc.map_in, "map_in");
        push_map(arc.map_out, "map_out");
        lua_call(L, 2, 0);
    }
}

// ---- small Lua calls -------------------------------------------------------------

int Program::call_int(int ref, std::initializer_list<double> args) {
    lua_State* L = vm_.state();
    lua_rawgeti(L, LUA_REGISTRYINDEX, ref);
    for (double a : args) lua_pushnumber(L, a);
    if (lua_pcall(L, static_cast<int>(args.size()), 1, 0) != 0)
        throw std::logic_error("statenet runtime: " + pop_error_text(L));
    int result = static_cast<int>(lua_tointeger(L, -1));
    lua_pop(L, 1);
    return result;
}

void Program::call_void(int ref, std::initializer_list<double> args) {
    lua_State* L = vm_.state();
    lua_rawgeti(L, LUA_REGISTRYINDEX, ref);
    for (double a : args) lua_pushnumber(L, a);
    if (lua_pcall(L, static_cast<int>(args.size()), 0, 0) != 0)
        throw std::logic_error("statenet runtime: " + pop_error_text(L));
}

Value Program::read_slot(int slot, const Value& order) {
    lua_State* L = vm_.state();
    StackGuard guard(L);
    lua_rawgeti(L, LUA_REGISTRYINDEX, refs_.get);
    lua_pushinteger(L, slot);
    lua_call(L, 1, 1);
    return read_value(L, -1, convert_, &order);
}

Value Program::read_whole(int slot, const Value& order) {
    call_void(refs_.touch, {double(slot)});
    return read_slot(slot, order);
}

}  // namespace statenet::detail
