// LuaVm: opens a LuaJIT state, sets the module search path, loads the runtime.
#include "lua/vm.hpp"

#include "lua/protocol.hpp"

#include <stdexcept>

namespace statenet::detail {

std::string pop_error_text(lua_State* L) {
    std::string text;
    if (const char* s = lua_tostring(L, -1)) text = s;
    else text = std::string("(error object is a ") + luaL_typename(L, -1) + ")";
    lua_pop(L, 1);
    return text;
}

void push_required(lua_State* L, const char* module) {
    lua_getglobal(L, "require");
    lua_pushstring(L, module);
    if (lua_pcall(L, 1, 1, 0) != 0)
        throw std::runtime_error(std::string("cannot load ") + module + ": " + pop_error_text(L));
}

int field_ref(lua_State* L, const char* name) {
    lua_getfield(L, -1, name);
    return luaL_ref(L, LUA_REGISTRYINDEX);
}

namespace {

std::string search_path(const std::vector<std::string>& dirs, const std::string& stdlib_dir) {
    std::string path;
    auto add = [&](const std::string& dir) {
        std::string prefix = dir.empty() ? std::string(".") : dir;
        path += prefix + "/?.lua;" + prefix + "/?/init.lua;";
    };
    for (const auto& dir : dirs) add(dir);
    add(stdlib_dir);
    path.pop_back();
    return path;
}

/// package.loaders[2] reading through a SourceSnapshot, which searches package.path and
/// reports as Lua's own file searcher does.
int snapshot_searcher(lua_State* L) {
    auto* sources = static_cast<SourceSnapshot*>(lua_touserdata(L, lua_upvalueindex(1)));
    const std::string module = luaL_checkstring(L, 1);
    lua_getglobal(L, "package");
    lua_getfield(L, -1, "path");
    std::size_t length = 0;
    const char* path = lua_tolstring(L, -1, &length);
    if (!path) return luaL_error(L, "'package.path' must be a string");
    return guarded_call(L, "", [&] { return sources->load_module(L, module, std::string_view(path, length)); });
}

}  // namespace

LuaVm::LuaVm(const std::vector<std::string>& module_dirs, const std::string& stdlib_dir, SourceSnapshot* sources,
             const SandboxConfig& sandbox)
    : limits_(sandbox.enabled ? sandbox.call_ms : 0, sandbox.enabled ? sandbox.memory_bytes : 0) {
    L_ = luaL_newstate();
    if (!L_) throw std::runtime_error("cannot create a Lua state (out of memory)");
    if (sandbox.enabled) limits_.install(L_);
    luaL_openlibs(L_);
    install_protocol(L_);
    preload_host(L_, sandbox, &limits_, stdlib_dir, sources);
    lua_getglobal(L_, "package");
    std::string path = search_path(module_dirs, stdlib_dir);
    lua_pushlstring(L_, path.data(), path.size());
    lua_setfield(L_, -2, "path");
    lua_pushliteral(L_, "");  // workflows load Lua modules only
    lua_setfield(L_, -2, "cpath");
    if (sources) {
        lua_getfield(L_, -1, "loaders");
        lua_pushlightuserdata(L_, sources);
        lua_pushcclosure(L_, snapshot_searcher, 1);
        lua_rawseti(L_, -2, 2);
        lua_pop(L_, 1);
    }
    lua_pop(L_, 1);

    lua_getglobal(L_, "require");
    lua_pushliteral(L_, "statenet.runtime");
    if (lua_pcall(L_, 1, 1, 0) != 0) {
        std::string err = pop_error_text(L_);
        lua_close(L_);
        L_ = nullptr;
        throw std::runtime_error("cannot load the statenet Lua runtime from '" + stdlib_dir +
                                 "' (set STATENET_STDLIB to the stdlib directory): " + err);
    }
    runtime_ref_ = luaL_ref(L_, LUA_REGISTRYINDEX);
    push_runtime("load_chunk");
    lua_setfield(L_, LUA_REGISTRYINDEX, "statenet.load_chunk");
}

LuaVm::~LuaVm() {
    if (!L_) return;
    limits_.uninstall(L_);
    lua_close(L_);
}

void LuaVm::push_runtime(const char* name) const {
    push_runtime_module();
    lua_getfield(L_, -1, name);
    lua_remove(L_, -2);
}

int LuaVm::ref_runtime(const char* name) {
    push_runtime(name);
    if (lua_isnil(L_, -1)) {
        lua_pop(L_, 1);
        throw std::logic_error(std::string("statenet runtime has no '") + name + "'");
    }
    return luaL_ref(L_, LUA_REGISTRYINDEX);
}

}  // namespace statenet::detail
