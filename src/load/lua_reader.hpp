// Runs a Lua workflow file and turns the table it returns into a located Node tree.
#pragma once

#include "load/node.hpp"

#include <string>

struct lua_State;

namespace statenet::detail {

/// Loads and runs `file` in `L` (package.path already set) and converts the returned
/// table. Lua tables carry no positions, so locations are recovered from the source
/// text. Map keys are sorted by name; function values get their `fn_path`. Returns false
/// when the file cannot be loaded or run, or does not return a table; other problems
/// are reported in `diags` and the offending value is left out. The Lua stack is left
/// as it was.
bool read_lua_workflow(lua_State* L, const std::string& file, Node& out, Diagnostics& diags);

}  // namespace statenet::detail
