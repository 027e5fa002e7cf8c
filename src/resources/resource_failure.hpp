// Named failures of resource calls, and how a Lua binding raises them as
// `{ name = ..., message = ... }` at the calling Lua line.
#pragma once

#include <lua.hpp>

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

/// The body of a resource binding's lua_CFunction: runs `body` (which returns the number
/// of results); a ResourceFailure is raised under its name, any other exception as
/// `ResourceError`. Exceptions stop here; the messages' storage ends before lua_error.
template <typename Body>
int resource_call(lua_State* L, Body&& body) {
    {
        std::string name, message;
        try {
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

}  // namespace statenet::detail
