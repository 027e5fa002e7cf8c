// MachineVm's push stack: the frames of an instance inside sub-networks (push arcs),
// between the Lua tables statenet/machine_stack.lua keeps and the JSON text the stores
// keep (by state names, so that a stack survives restarts and reloads).
#include "machine/machine_vm.hpp"
#include "machine/store.hpp"

#include "lua/convert.hpp"

#include <fmt/format.h>

namespace statenet::detail {

namespace {

/// The push arc of state `s` into network `net` a stored frame names: the one at
/// `index` when it still is one, else the state's first push arc into `net`.
const Arc* push_arc(const Model& model, const State& s, std::int64_t index, std::string_view net) {
    auto into = [&](const Arc& arc) {
        return arc.is_push() && model.networks[static_cast<std::size_t>(arc.push_network)].name == net;
    };
    if (index >= 0 && static_cast<std::size_t>(index) < s.arcs.size() && into(s.arcs[static_cast<std::size_t>(index)]))
        return &s.arcs[static_cast<std::size_t>(index)];
    for (const Arc& arc : s.arcs)
        if (into(arc)) return &arc;
    return nullptr;
}

const std::string& text_of(const Value& frame, std::string_view key) {
    static const std::string none;
    const Value* v = frame.find(key);
    return v && v->is_string() ? v->as_string() : none;
}

const State* find_state(const Model& model, std::string_view qualified) {
    for (const auto& net : model.networks)
        for (const auto& s : net.states)
            if (s.qualified == qualified) return &s;
    return nullptr;
}

/// A stored frame resolved in `model`: its pushing state and arc, or why it cannot be.
struct Resolved {
    const State* state = nullptr;
    const Arc* arc = nullptr;
    std::string problem;
};

Resolved resolve(const Model& model, const Value& frame) {
    Resolved r;
    const std::string& name = text_of(frame, "state");
    const std::string& net = text_of(frame, "network");
    r.state = find_state(model, name);
    if (!r.state) {
        r.problem = fmt::format("the state {} it pushed from no longer exists in the workflow", name);
        return r;
    }
    const Value* index = frame.find("arc");
    r.arc = push_arc(model, *r.state, index && index->is_int() ? index->as_int() : -1, net);
    if (!r.arc) r.problem = fmt::format("state {} no longer has a push arc into network '{}'", name, net);
    return r;
}

}  // namespace

std::string stack_problem(const Model& model, std::string_view json) {
    if (json.empty()) return {};
    const Value stack = Value::from_json(json);
    if (!stack.is_array()) return "its push stack is not a JSON array";
    for (const Value& frame : stack.as_array())
        if (Resolved r = resolve(model, frame); !r.problem.empty()) return r.problem;
    return {};
}

std::vector<PushFrame> stack_frames(std::string_view json) {
    std::vector<PushFrame> out;
    if (json.empty()) return out;
    const Value stack = Value::from_json(json);
    if (!stack.is_array()) return out;
    for (const Value& frame : stack.as_array()) {
        PushFrame f;
        f.state = text_of(frame, "state");
        f.network = text_of(frame, "network");
        const Value* ret = frame.find("return_to");
        if (ret && ret->is_string()) f.return_to = ret->as_string();
        out.push_back(std::move(f));
    }
    return out;
}

std::string MachineVm::stack_json(int handle) {
    lua_State* L = program_->state();
    StackGuard guard(L);
    lua_rawgeti(L, LUA_REGISTRYINDEX, get_);
    lua_pushinteger(L, handle);
    lua_call(L, 1, 2);
    if (!lua_istable(L, -1)) return {};
    Value stack = Value::array();
    const int n = static_cast<int>(lua_objlen(L, -1));
    for (int i = 1; i <= n; ++i) {
        lua_rawgeti(L, -1, i);
        auto number = [&](const char* field) {
            lua_getfield(L, -1, field);
            const int v = lua_isnumber(L, -1) ? static_cast<int>(lua_tointeger(L, -1)) : -1;
            lua_pop(L, 1);
            return v;
        };
        const State& s = state(number("sid"));
        const int index = number("index");
        const int prev = number("prev");
        const Arc& arc = s.arcs[static_cast<std::size_t>(index)];
        Value frame = Value::object();
        frame.set("state", Value(s.qualified));
        frame.set("arc", Value(static_cast<std::int64_t>(index)));
        frame.set("network", Value(model_->networks[static_cast<std::size_t>(arc.push_network)].name));
        if (arc.return_to >= 0) frame.set("return_to", Value(model_->state(s.network, arc.return_to).qualified));
        if (prev >= 0) frame.set("previous", Value(state(prev).qualified));
        for (const char* part : {"data", "entry"}) {
            lua_getfield(L, -1, part);
            if (!lua_isnil(L, -1)) frame.set(part, read_value(L, -1, program_->convert(), nullptr));
            lua_pop(L, 1);
        }
        lua_pop(L, 1);
        stack.push_back(std::move(frame));
    }
    return stack.to_json();
}

std::string MachineVm::put_stack(int handle, std::string_view json) {
    lua_State* L = program_->state();
    StackGuard guard(L);
    lua_rawgeti(L, LUA_REGISTRYINDEX, get_);
    lua_pushinteger(L, handle);
    lua_call(L, 1, 1);  // the data stays; its frames are replaced
    if (json.empty()) {
        lua_rawgeti(L, LUA_REGISTRYINDEX, put_);
        lua_pushinteger(L, handle);
        lua_pushvalue(L, -3);
        lua_call(L, 2, 0);
        return {};
    }
    const Value stack = Value::from_json(json);
    if (!stack.is_array()) return "its push stack is not a JSON array";
    lua_createtable(L, static_cast<int>(stack.size()), 0);
    int i = 0;
    for (const Value& frame : stack.as_array()) {
        Resolved r = resolve(*model_, frame);
        if (!r.problem.empty()) return r.problem;
        const Arc* arc = r.arc;
        lua_createtable(L, 0, 5);
        lua_pushinteger(L, r.state->id);
        lua_setfield(L, -2, "sid");
        lua_pushinteger(L, arc->index);
        lua_setfield(L, -2, "index");
        const std::string& previous = text_of(frame, "previous");
        lua_pushinteger(L, previous.empty() ? -1 : find_state(previous));
        lua_setfield(L, -2, "prev");
        // Copy isolation keeps the caller's data; share isolation has none to keep.
        const Value* data = frame.find("data");
        if (arc->isolation_copy) {
            push_value(L, data && data->is_object() ? *data : Value::object(), program_->convert());
            lua_setfield(L, -2, "data");
        }
        if (const Value* entry = frame.find("entry"); entry && entry->is_object()) {
            push_value(L, *entry, program_->convert());
            lua_setfield(L, -2, "entry");
        }
        lua_rawseti(L, -2, ++i);
    }
    lua_rawgeti(L, LUA_REGISTRYINDEX, put_);
    lua_pushinteger(L, handle);
    lua_pushvalue(L, -4);
    lua_pushvalue(L, -4);
    lua_call(L, 3, 0);
    return {};
}

}  // namespace statenet::detail
