// The resources' Lua binding helpers: located named errors, method tables.
#include "resources/binding.hpp"

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

void push_method_table(lua_State* L, void* self, const ConvertRefs* refs, ResourceMeter* meter,
                       std::initializer_list<std::pair<const char*, lua_CFunction>> methods) {
    lua_createtable(L, 0, static_cast<int>(methods.size()));
    const int table = lua_gettop(L);
    for (const auto& [name, function] : methods) {
        lua_pushlightuserdata(L, self);
        lua_pushlightuserdata(L, const_cast<ConvertRefs*>(refs));
        lua_pushvalue(L, table);
        lua_pushlightuserdata(L, meter);
        lua_pushcclosure(L, function, 4);
        lua_setfield(L, table, name);
    }
}

}  // namespace statenet::detail
