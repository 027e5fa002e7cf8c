// install_protocol: the C++/Lua codes of lua/protocol.hpp as a Lua module table.
#include "lua/protocol.hpp"

#include <cstddef>

namespace statenet::detail {

namespace {

/// Pushes a table of `lua name = code`, codes counting from 0.
template <std::size_t N>
void push_codes(lua_State* L, const char* const (&names)[N]) {
    lua_createtable(L, 0, static_cast<int>(N));
    for (std::size_t code = 0; code < N; ++code) {
        lua_pushinteger(L, static_cast<lua_Integer>(code));
        lua_setfield(L, -2, names[code]);
    }
}

#define STATENET_LUA_NAME(cpp, lua) lua,
constexpr const char* step_names[] = {STATENET_STEP_OUTCOMES(STATENET_LUA_NAME)};
constexpr const char* json_field_names[] = {STATENET_JSON_FIELD_CODES(STATENET_LUA_NAME)};
constexpr const char* machine_names[] = {STATENET_MACHINE_OUTCOMES(STATENET_LUA_NAME)};
#undef STATENET_LUA_NAME

}  // namespace

void install_protocol(lua_State* L) {
    lua_getglobal(L, "package");
    lua_getfield(L, -1, "loaded");
    lua_createtable(L, 0, 3);
    push_codes(L, step_names);
    lua_setfield(L, -2, "step");
    push_codes(L, json_field_names);
    lua_setfield(L, -2, "json_field");
    push_codes(L, machine_names);
    lua_setfield(L, -2, "machine");
    lua_setfield(L, -2, "statenet.protocol");
    lua_pop(L, 2);
}

}  // namespace statenet::detail
