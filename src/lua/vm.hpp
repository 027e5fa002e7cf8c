// An owned LuaJIT state with the statenet runtime loaded and module paths set.
#pragma once

#include "lua/limits.hpp"
#include "lua/sandbox.hpp"
#include "lua/source_snapshot.hpp"

#include <lua.hpp>

#include <exception>
#include <string>
#include <vector>

namespace statenet::detail {

/// Pops the error value left by a failed pcall and returns it as text.
std::string pop_error_text(lua_State* L);

/// Pushes `require(module)`; throws std::runtime_error naming the module when it fails.
void push_required(lua_State* L, const char* module);
/// A registry reference to field `name` of the table on top of the stack.
int field_ref(lua_State* L, const char* name);

/// Restores the Lua stack height when a scope ends (RAII, never throws).
class StackGuard {
public:
    explicit StackGuard(lua_State* L) noexcept : L_(L), top_(lua_gettop(L)) {}
    ~StackGuard() { lua_settop(L_, top_); }
    StackGuard(const StackGuard&) = delete;
    StackGuard& operator=(const StackGuard&) = delete;

private:
    lua_State* L_;
    int top_;
};

/// The body of a lua_CFunction: runs `body` (which returns the number of results) and
/// turns a C++ exception into a Lua error, `prefix` + its message. Exceptions stop at the
/// Lua boundary; the message's storage ends before lua_error unwinds.
template <typename Body>
int guarded_call(lua_State* L, const char* prefix, Body&& body) {
    {
        std::string failure;
        try {
            return body();
        } catch (const std::exception& e) {
            failure = std::string(prefix) + e.what();
        }
        lua_pushlstring(L, failure.data(), failure.size());
    }
    return lua_error(L);
}

class LuaVm {
public:
    /// Opens a VM whose `require` searches `module_dirs` in order, then `stdlib_dir`,
    /// and loads `statenet.runtime`. Throws std::runtime_error if the runtime is missing.
    /// With `sources`, modules are loaded from that snapshot (which must outlive the VM).
    /// Workflow code runs as `sandbox` says; until the first CallLimit, the VM's work is
    /// loading, limited by `sandbox.call_ms`.
    LuaVm(const std::vector<std::string>& module_dirs, const std::string& stdlib_dir, SourceSnapshot* sources = nullptr,
          const SandboxConfig& sandbox = {});
    ~LuaVm();
    LuaVm(const LuaVm&) = delete;
    LuaVm& operator=(const LuaVm&) = delete;

    lua_State* state() const noexcept { return L_; }
    /// Pushes runtime.<name> (a function or value of the runtime module).
    void push_runtime(const char* name) const;
    /// Pushes the runtime module table.
    void push_runtime_module() const { lua_rawgeti(L_, LUA_REGISTRYINDEX, runtime_ref_); }
    /// Registry reference of runtime.<name>, for hot calls.
    int ref_runtime(const char* name);
    /// The VM's call deadline and memory cap (inert when the sandbox is off).
    VmLimits& limits() noexcept { return limits_; }

private:
    VmLimits limits_;
    lua_State* L_ = nullptr;
    int runtime_ref_ = LUA_NOREF;
};

}  // namespace statenet::detail
