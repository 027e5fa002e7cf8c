// The Lua sandbox's C++ side: what a VM grants workflow code, the rewriting that lets a
// call's time limit interrupt even compiled loops, and loading user files through it.
// The environment itself is built by stdlib/statenet/runtime.lua (see docs/security.md).
#pragma once

#include "lua/source_snapshot.hpp"

#include <lua.hpp>

#include <array>
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace statenet::detail {

class VmLimits;

/// What a workflow may opt into with `trust = [...]`.
inline constexpr std::array<std::string_view, 5> trustable = {"io", "os", "ffi", "debug", "jit"};

/// How a VM runs workflow code.
struct SandboxConfig {
    /// False only for the benchmark baseline (STATENET_UNSANDBOXED=1): no sandbox, no
    /// limits, no isolation between records.
    bool enabled = true;
    std::vector<std::string> trust;                      ///< names from `trustable`
    double call_ms = 10000;                              ///< one call's time limit; <= 0: none
    std::size_t memory_bytes = std::size_t{1024} << 20;  ///< the VM's memory cap; 0: none
};

/// True unless the environment asks for the unsandboxed baseline.
bool sandbox_enabled_by_environment();

/// `code` as the runtime loads user code: wrapped as `local __statenet_tick = ...;
/// return function(...) <code> end`, with `__statenet_tick();` after every `do`, `repeat`
/// and function parameter list and before every `goto`, on the same lines (so messages
/// keep their line numbers). The tick is a counter that looks at the VM's stop flag
/// every so often: a compiled loop checks no hooks, but it runs the tick.
std::string instrument_lua(std::string_view code);

/// A `trust = { "name", ... }` written literally in a Lua workflow's text.
struct TrustLiteral {
    bool found = false;
    int line = 0;
    int column = 0;
    std::vector<std::string> names;
};
/// The first literal trust list in `code` (what loading the file is granted before it
/// runs: the table it returns must list no more).
TrustLiteral find_trust_literal(std::string_view code);

/// Makes `require("statenet.host")` give the runtime what it builds the sandbox from.
/// `sources` (may be null) and `limits` must outlive the VM.
void preload_host(lua_State* L, const SandboxConfig& config, VmLimits* limits, const std::string& stdlib_dir,
                  SourceSnapshot* sources);

/// Loads the Lua file `path` (from `sources` when given) as user code: sandboxed and
/// instrumented. Like luaL_loadfile: 0 and the function pushed, or an error status and
/// the message. Needs the runtime loaded (LuaVm).
int load_user_file(lua_State* L, const std::string& path, SourceSnapshot* sources = nullptr);

}  // namespace statenet::detail
