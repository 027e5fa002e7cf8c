// Value <-> Lua conversion at the edges of a record run.
#include "lua/convert.hpp"

#include "json/json_internal.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <string>

namespace statenet::detail {

namespace {

constexpr double max_exact_integer = 9007199254740992.0;  // 2^53

// `level`: how deep a table is, the record being level 1 (see max_nesting_depth).
void push_table(lua_State* L, const Value& value, const ConvertRefs& refs, int level);

void push_any(lua_State* L, const Value& value, const ConvertRefs& refs, int level) {
    switch (value.type()) {
    case Value::Type::null: lua_pushnil(L); break;
    case Value::Type::boolean: lua_pushboolean(L, value.as_bool()); break;
    case Value::Type::integer: lua_pushnumber(L, static_cast<lua_Number>(value.as_int())); break;
    case Value::Type::number: lua_pushnumber(L, value.as_number()); break;
    case Value::Type::string: {
        const auto& s = value.as_string();
        lua_pushlstring(L, s.data(), s.size());
        break;
    }
    case Value::Type::array:
    case Value::Type::object: push_table(L, value, refs, level); break;
    }
}

void push_table(lua_State* L, const Value& value, const ConvertRefs& refs, int level) {
    if (level > max_nesting_depth)
        throw ConvertError(fmt::format("record is nested deeper than {} levels", max_nesting_depth));
    luaL_checkstack(L, 4, "statenet: record too deep");
    if (value.is_array()) {
        const auto& items = value.as_array();
        lua_createtable(L, static_cast<int>(items.size()), 0);
        int i = 1;
        for (const auto& item : items) {
            // null keeps its place in an array as statenet.null (nil would end it).
            if (item.is_null()) lua_pushlightuserdata(L, nullptr);
            else push_any(L, item, refs, level + 1);
            lua_rawseti(L, -2, i++);
        }
        if (items.empty()) {
            lua_rawgeti(L, LUA_REGISTRYINDEX, refs.array_mt);
            lua_setmetatable(L, -2);
        }
        return;
    }
    const auto& members = value.as_object();
    lua_createtable(L, 0, static_cast<int>(members.size()));
    for (const auto& [key, member] : members) {
        if (member.is_null()) continue;
        lua_pushlstring(L, key.data(), key.size());
        push_any(L, member, refs, level + 1);
        lua_rawset(L, -3);
    }
}

Value read_any(lua_State* L, int index, const ConvertRefs& refs, const Value* order, int level);

std::string key_text(lua_State* L, int index) {
    if (lua_type(L, index) == LUA_TSTRING) {
        std::size_t len = 0;
        const char* s = lua_tolstring(L, index, &len);
        return std::string(s, len);
    }
    if (lua_type(L, index) == LUA_TNUMBER) {
        double d = lua_tonumber(L, index);
        if (d == std::floor(d) && std::fabs(d) < max_exact_integer) return std::to_string(static_cast<long long>(d));
        return std::to_string(d);
    }
    throw ConvertError(std::string("a table key of type ") + luaL_typename(L, index) +
                       " cannot become a JSON object key");
}

Value read_number(double d) {
    if (d == std::floor(d) && std::fabs(d) <= max_exact_integer) return Value(static_cast<long long>(d));
    return Value(d);
}

/// 1..n with n = #t and nothing else: a JSON array.
bool is_sequence(lua_State* L, int index) {
    std::size_t n = lua_objlen(L, index);
    if (n == 0) return false;
    std::size_t count = 0;
    lua_pushnil(L);
    while (lua_next(L, index) != 0) {
        lua_pop(L, 1);
        if (lua_type(L, -1) != LUA_TNUMBER) {
            lua_pop(L, 1);
            return false;
        }
        ++count;
    }
    return count == n;
}

Value read_table(lua_State* L, int index, const ConvertRefs& refs, const Value* order, int level) {
    if (level > max_nesting_depth)
        throw ConvertError(fmt::format("table is nested deeper than {} levels (is there a cycle?)", max_nesting_depth));
    luaL_checkstack(L, 6, "statenet: table too deep");
    bool marked_array = false;
    if (lua_getmetatable(L, index)) {
        lua_getfield(L, -1, "__statenet_view");
        bool is_view = !lua_isnil(L, -1);
        lua_pop(L, 1);
        lua_rawgeti(L, LUA_REGISTRYINDEX, refs.array_mt);
        marked_array = lua_rawequal(L, -1, -2);
        lua_pop(L, 2);
        if (is_view) {
            lua_rawgeti(L, LUA_REGISTRYINDEX, refs.materialize);
            lua_pushvalue(L, index);
            lua_call(L, 1, 1);
            // A view materializes to a plain table at its own level; one that gave
            // itself back would recurse forever.
            if (lua_rawequal(L, -1, index)) {
                lua_pop(L, 1);
                throw ConvertError("a record view cannot be read");
            }
            Value v = read_table(L, lua_gettop(L), refs, order, level);
            lua_pop(L, 1);
            return v;
        }
    }
    if (marked_array || is_sequence(L, index)) {
        Value::Array items;
        std::size_t n = lua_objlen(L, index);
        items.reserve(n);
        for (std::size_t i = 1; i <= n; ++i) {
            lua_rawgeti(L, index, static_cast<int>(i));
            const Value* item_order = order && order->is_array() && i <= order->size() ? &(*order)[i - 1] : nullptr;
            items.push_back(read_any(L, lua_gettop(L), refs, item_order, level + 1));
            lua_pop(L, 1);
        }
        return Value(std::move(items));
    }
    Value::Object members;
    const Value::Object* hint = order && order->is_object() ? &order->as_object() : nullptr;
    if (hint) {
        for (const auto& [key, old] : *hint) {
            lua_pushlstring(L, key.data(), key.size());
            lua_rawget(L, index);
            if (!lua_isnil(L, -1)) members.emplace_back(key, read_any(L, lua_gettop(L), refs, &old, level + 1));
            lua_pop(L, 1);
        }
    }
    // Keys Lua adds come in hash order, which varies; sort them so output is stable.
    std::size_t first_new = members.size();
    lua_pushnil(L);
    while (lua_next(L, index) != 0) {
        int value_index = lua_gettop(L);
        std::string key = key_text(L, value_index - 1);
        bool seen = false;
        if (hint && lua_type(L, value_index - 1) == LUA_TSTRING)
            for (const auto& member : *hint)
                if (member.first == key) {
                    seen = true;
                    break;
                }
        if (!seen) {
            try {
                members.emplace_back(key, read_any(L, value_index, refs, nullptr, level + 1));
            } catch (const ConvertError& e) {
                lua_pop(L, 2);
                throw ConvertError("field '" + key + "': " + e.what());
            }
        }
        lua_pop(L, 1);
    }
    std::sort(members.begin() + static_cast<std::ptrdiff_t>(first_new), members.end(),
              [](const Value::Member& a, const Value::Member& b) { return a.first < b.first; });
    return Value(std::move(members));
}

Value read_any(lua_State* L, int index, const ConvertRefs& refs, const Value* order, int level) {
    switch (lua_type(L, index)) {
    case LUA_TNIL: return Value();
    case LUA_TBOOLEAN: return Value(lua_toboolean(L, index) != 0);
    case LUA_TNUMBER: return read_number(lua_tonumber(L, index));
    case LUA_TSTRING: {
        std::size_t len = 0;
        const char* s = lua_tolstring(L, index, &len);
        return Value(std::string(s, len));
    }
    case LUA_TTABLE: return read_table(L, index, refs, order, level);
    case LUA_TLIGHTUSERDATA:
        if (lua_touserdata(L, index) == nullptr) return Value();
        break;
    default: break;
    }
    throw ConvertError(std::string("a Lua ") + luaL_typename(L, index) + " cannot become JSON");
}

}  // namespace

void append_lua_json(std::string& out, lua_State* L, int index, const ConvertRefs& refs, const Value* order) {
    switch (lua_type(L, index)) {
    case LUA_TNUMBER: append_json(out, read_number(lua_tonumber(L, index))); return;
    case LUA_TSTRING: {
        std::size_t len = 0;
        const char* s = lua_tolstring(L, index, &len);
        append_json_string(out, std::string_view(s, len));
        return;
    }
    case LUA_TBOOLEAN: out += lua_toboolean(L, index) ? "true" : "false"; return;
    default: {
        const int absolute = index > 0 || index <= LUA_REGISTRYINDEX ? index : lua_gettop(L) + index + 1;
        append_json(out, read_any(L, absolute, refs, order, 2));  // a field of the record, level 2
    }
    }
}

void apply_changes(lua_State* L, int root_index, int dirty_index, const ConvertRefs& refs, Value& data) {
    int root = root_index > 0 ? root_index : lua_gettop(L) + root_index + 1;
    int dirty = dirty_index > 0 ? dirty_index : lua_gettop(L) + dirty_index + 1;
    Value::Object added;
    lua_pushnil(L);
    while (lua_next(L, dirty) != 0) {
        lua_pop(L, 1);
        std::string key = key_text(L, -1);
        lua_pushvalue(L, -1);
        lua_rawget(L, root);
        if (lua_isnil(L, -1)) {
            data.erase(key);
        } else {
            Value* old = data.find(key);
            try {
                Value now = read_any(L, lua_gettop(L), refs, old, 2);
                if (old) *old = std::move(now);
                else added.emplace_back(std::move(key), std::move(now));
            } catch (const ConvertError& e) {
                lua_pop(L, 2);
                throw ConvertError("field '" + key + "': " + e.what());
            }
        }
        lua_pop(L, 1);
    }
    std::sort(added.begin(), added.end(),
              [](const Value::Member& a, const Value::Member& b) { return a.first < b.first; });
    for (auto& member : added) data.as_object().push_back(std::move(member));
}

void push_value(lua_State* L, const Value& value, const ConvertRefs& refs) { push_any(L, value, refs, 1); }

namespace {

bool deeper_than_limit(const Value& value, int level) noexcept {
    if (value.is_array()) {
        if (level > max_nesting_depth) return true;
        for (const auto& item : value.as_array())
            if (deeper_than_limit(item, level + 1)) return true;
    } else if (value.is_object()) {
        if (level > max_nesting_depth) return true;
        for (const auto& member : value.as_object())
            if (deeper_than_limit(member.second, level + 1)) return true;
    }
    return false;
}

}  // namespace

bool exceeds_nesting_limit(const Value& value) noexcept { return deeper_than_limit(value, 1); }

Value read_value(lua_State* L, int index, const ConvertRefs& refs, const Value* order) {
    int absolute = index > 0 || index <= LUA_REGISTRYINDEX ? index : lua_gettop(L) + index + 1;
    return read_any(L, absolute, refs, order, 1);
}

}  // namespace statenet::detail
