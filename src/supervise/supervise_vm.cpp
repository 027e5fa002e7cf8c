// SuperviseVm: loads statenet/supervise.lua next to a workflow's functions and calls it.
#include "supervise/supervise_vm.hpp"

#include "api/workflow_impl.hpp"
#include "lua/vm.hpp"

namespace statenet::detail {

SuperviseVm::SuperviseVm(const Workflow& workflow, const Value& global) : workflow_(workflow) {
    Diagnostics diags;
    program_ = std::make_unique<Program>(workflow.impl().model(), workflow.impl().engine, diags, ProgramFor::machines);
    if (!diags.empty()) throw LoadError(std::move(diags.list));
    lua_State* L = program_->state();
    StackGuard guard(L);
    push_required(L, "statenet.supervise");
    derive_ = field_ref(L, "derive");
    health_ = field_ref(L, "health");
    seeded_ = field_ref(L, "seeded");
    seed_ = field_ref(L, "seed");
    forget_ = field_ref(L, "forget");
    render_ = field_ref(L, "render_text");
    lua_getfield(L, -1, "setup");
    lua_getfield(L, LUA_REGISTRYINDEX, "statenet.functions");
    push(global);
    lua_call(L, 2, 0);
}

void SuperviseVm::push(const Value& value) {
    lua_State* L = program_->state();
    if (value.is_null()) lua_newtable(L);
    else push_value(L, value, program_->convert());
}

void SuperviseVm::call(int nargs, int nresults) {
    lua_State* L = program_->state();
    if (lua_pcall(L, nargs, nresults, 0) == 0) return;
    std::string message;
    if (lua_istable(L, -1)) {
        lua_getfield(L, -1, "message");
        message = lua_isstring(L, -1) ? lua_tostring(L, -1) : "a Lua error";
        lua_pop(L, 2);
    } else {
        message = pop_error_text(L);
    }
    throw SupervisionError(message);
}

bool SuperviseVm::seeded(const std::string& id) {
    lua_State* L = program_->state();
    StackGuard guard(L);
    lua_rawgeti(L, LUA_REGISTRYINDEX, seeded_);
    lua_pushlstring(L, id.data(), id.size());
    call(1, 1);
    return lua_toboolean(L, -1) != 0;
}

void SuperviseVm::seed(const std::string& id, const Value& entries) {
    lua_State* L = program_->state();
    StackGuard guard(L);
    lua_rawgeti(L, LUA_REGISTRYINDEX, seed_);
    lua_pushlstring(L, id.data(), id.size());
    push(entries);
    call(2, 0);
}

void SuperviseVm::forget(const std::string& id) {
    lua_State* L = program_->state();
    StackGuard guard(L);
    lua_rawgeti(L, LUA_REGISTRYINDEX, forget_);
    lua_pushlstring(L, id.data(), id.size());
    call(1, 0);
}

void SuperviseVm::push_args(FnId fn, const Supervised& who) {
    lua_State* L = program_->state();
    lua_pushlstring(L, who.id.data(), who.id.size());
    lua_pushinteger(L, fn);
    push(who.data);
    push(who.passed);
    lua_pushlstring(L, who.state.data(), who.state.size());
    push(who.internal);
}

std::vector<ChildOp> SuperviseVm::derive(FnId fn, const Supervised& who) {
    lua_State* L = program_->state();
    StackGuard guard(L);
    lua_rawgeti(L, LUA_REGISTRYINDEX, derive_);
    push_args(fn, who);
    call(6, 1);
    std::vector<ChildOp> ops;
    const int n = static_cast<int>(lua_objlen(L, -1));
    ops.reserve(static_cast<std::size_t>(n));
    for (int i = 1; i <= n; ++i) {
        lua_rawgeti(L, -1, i);
        ChildOp op;
        lua_getfield(L, -1, "op");
        const std::string kind = lua_tostring(L, -1);
        op.kind = kind == "add" ? ChildOp::Kind::add : kind == "update" ? ChildOp::Kind::update : ChildOp::Kind::remove;
        lua_getfield(L, -2, "name");
        op.name = lua_tostring(L, -1);
        lua_getfield(L, -3, "entry");
        if (!lua_isnil(L, -1)) op.entry = read_value(L, -1, program_->convert());
        lua_pop(L, 4);
        ops.push_back(std::move(op));
    }
    return ops;
}

std::string SuperviseVm::health(FnId fn, const Supervised& who) {
    lua_State* L = program_->state();
    StackGuard guard(L);
    lua_rawgeti(L, LUA_REGISTRYINDEX, health_);
    push_args(fn, who);
    call(6, 2);
    if (lua_toboolean(L, -2)) return {};
    return lua_isstring(L, -1) ? lua_tostring(L, -1) : "the health check said no";
}

Value SuperviseVm::render(const std::string& text, const Value& user, const Value& internal) {
    lua_State* L = program_->state();
    StackGuard guard(L);
    lua_rawgeti(L, LUA_REGISTRYINDEX, render_);
    lua_pushlstring(L, text.data(), text.size());
    push(user);
    push(internal);
    call(3, 1);
    return read_value(L, -1, program_->convert());
}

}  // namespace statenet::detail
