// The Lua binding shared by the database resources: arguments read from Lua, results pushed back.
#include "resources/db_binding.hpp"

#include "resources/meter.hpp"

#include <stdexcept>
#include <string>

namespace statenet::detail {

namespace {

enum class Operation { exec, query, insert, upsert };

// Reads the arguments, runs the operation and pushes its result; may throw.
int run_operation(lua_State* L, Operation operation) {
    auto* connection = static_cast<Connection*>(lua_touserdata(L, lua_upvalueindex(1)));
    const auto& refs = *static_cast<const ConvertRefs*>(lua_touserdata(L, lua_upvalueindex(2)));
    int first = 1;
    if (lua_rawequal(L, 1, lua_upvalueindex(3))) first = 2;  // called as db:method(...)
    const int top = lua_gettop(L);

    auto string_arg = [&](int index, const char* what) {
        if (index > top || lua_type(L, index) != LUA_TSTRING)
            throw std::runtime_error(connection->name() + ": " + what + " must be a string");
        std::size_t size = 0;
        const char* text = lua_tolstring(L, index, &size);
        return std::string(text, size);
    };

    switch (operation) {
    case Operation::exec:
    case Operation::query: {
        const std::string sql = string_arg(first, "sql");
        Value::Array params;
        for (int i = first + 1; i <= top; ++i) params.push_back(read_value(L, i, refs));
        if (operation == Operation::exec) {
            lua_pushinteger(L, static_cast<lua_Integer>(connection->exec(sql, params)));
        } else {
            push_value(L, connection->query(sql, params), refs);
        }
        return 1;
    }
    case Operation::insert:
    case Operation::upsert: {
        const std::string table = string_arg(first, "table name");
        const Value row = first + 1 <= top ? read_value(L, first + 1, refs) : Value();
        if (operation == Operation::insert) {
            lua_pushinteger(L, static_cast<lua_Integer>(connection->insert(table, row)));
        } else {
            const std::string key = string_arg(first + 2, "key");
            lua_pushinteger(L, static_cast<lua_Integer>(connection->upsert(table, row, key)));
        }
        return 1;
    }
    }
    return 0;
}

// Pushes the error table; the message's storage ends before lua_error unwinds.
void push_resource_error(lua_State* L, const std::string& message) {
    lua_createtable(L, 0, 2);
    lua_pushliteral(L, "ResourceError");
    lua_setfield(L, -2, "name");
    lua_pushlstring(L, message.data(), message.size());
    lua_setfield(L, -2, "message");
}

template <Operation operation>
int binding_function(lua_State* L) {
    {
        std::string message;
        try {
            auto* meter = static_cast<ResourceMeter*>(lua_touserdata(L, lua_upvalueindex(4)));
            return metered(L, *meter, [&] { return run_operation(L, operation); });
        } catch (const std::exception& e) {
            message = e.what();
        } catch (...) {
            message = "unknown error";
        }
        push_resource_error(L, message);
    }
    return lua_error(L);
}

}  // namespace

void push_db_binding(lua_State* L, Connection* connection, const ConvertRefs& refs, ResourceMeter& meter) {
    lua_createtable(L, 0, 4);
    const int table = lua_gettop(L);
    auto add = [&](const char* name, lua_CFunction function) {
        lua_pushlightuserdata(L, connection);
        lua_pushlightuserdata(L, const_cast<ConvertRefs*>(&refs));
        lua_pushvalue(L, table);
        lua_pushlightuserdata(L, &meter);
        lua_pushcclosure(L, function, 4);
        lua_setfield(L, table, name);
    };
    add("exec", binding_function<Operation::exec>);
    add("query", binding_function<Operation::query>);
    add("insert", binding_function<Operation::insert>);
    add("upsert", binding_function<Operation::upsert>);
}

}  // namespace statenet::detail
