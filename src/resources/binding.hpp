// What the resources' Lua bindings share: named failures raised as
// `{ name = ..., message = ... }` at the calling Lua line, and method tables.
#pragma once

#include "lua/convert.hpp"
#include "resources/meter.hpp"

#include <lua.hpp>

#include <initializer_list>
#include <stdexcept>
#include <string>
#include <utility>

namespace statenet::detail {

/// A resource call's failure under a catalogue name (`DimensionMismatch`, `PathEscape`,
/// `FileNotFound`, `InvalidArgument`, `ResourceError`, ...).
class ResourceFailure : public std::runtime_error {
public:
    ResourceFailure(std::string name, const std::string& message)
        : std::runtime_error(message), name_(std::move(name)) {}
    const std::string& name() const noexcept { return name_; }

private:
    std::string name_;
};

/// Pushes `{ name = name, message = "<file.lua:line:> message" }`, located at the Lua
/// function that called the binding.
void push_located_error(lua_State* L, const std::string& name, const std::string& message);

/// In a method of a table made by push_method_table: the resource's meter, or null.
inline ResourceMeter* method_meter(lua_State* L) {
    return static_cast<ResourceMeter*>(lua_touserdata(L, lua_upvalueindex(4)));
}

/// The body of a resource binding's lua_CFunction made by push_method_table: runs `body`
/// (which returns the number of results), counted in the table's meter; a
/// ResourceFailure is raised under its name, any other exception as `ResourceError`.
/// Exceptions stop here; the messages' storage ends before lua_error.
template <typename Body>
int resource_call(lua_State* L, Body&& body) {
    {
        std::string name, message;
        try {
            if (ResourceMeter* meter = method_meter(L)) return metered(L, *meter, body);
            return body();
        } catch (const ResourceFailure& e) {
            name = e.name();
            message = e.what();
        } catch (const std::exception& e) {
            name = "ResourceError";
            message = e.what();
        }
        push_located_error(L, name, message);
    }
    return lua_error(L);
}

/// Pushes a table of methods, each a C closure over (`self`, `refs`, the table, `meter`),
/// so that both `t:method(...)` and `t.method(...)` work (see first_argument). `self`,
/// `refs` and `meter` (null: calls are not counted) must outlive the table's use.
void push_method_table(lua_State* L, void* self, const ConvertRefs* refs, ResourceMeter* meter,
                       std::initializer_list<std::pair<const char*, lua_CFunction>> methods);

/// In a method of such a table: its `self` and `refs`, and the index of its first
/// argument (2 when called as `t:method(...)`, else 1).
template <typename T>
T* method_self(lua_State* L) {
    return static_cast<T*>(lua_touserdata(L, lua_upvalueindex(1)));
}
inline const ConvertRefs& method_refs(lua_State* L) {
    return *static_cast<const ConvertRefs*>(lua_touserdata(L, lua_upvalueindex(2)));
}
inline int first_argument(lua_State* L) { return lua_rawequal(L, 1, lua_upvalueindex(3)) ? 2 : 1; }

}  // namespace statenet::detail
