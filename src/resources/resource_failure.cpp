// Raising named resource errors to Lua at the caller's line.
#include "resources/resource_failure.hpp"

namespace statenet::detail {

void push_located_error(lua_State* L, const std::string& name, const std::string& message) {
    lua_createtable(L, 0, 2);
    lua_pushlstring(L, name.data(), name.size());
    lua_setfield(L, -2, "name");
    luaL_where(L, 1);
    lua_pushlstring(L, message.data(), message.size());
    lua_concat(L, 2);
    lua_setfield(L, -2, "message");
}

}  // namespace statenet::detail
