// The files resource's Lua face: read, write, append, list, move, remove, exists.
#include "resources/files_resource.hpp"
#include "resources/resource_failure.hpp"

#include <fmt/format.h>

#include <string>

namespace statenet::detail {

namespace {

enum class Operation { read, write, append, list, move, remove, exists };

std::string string_arg(lua_State* L, int index, const FilesResource& files, const char* what) {
    if (lua_type(L, index) != LUA_TSTRING && lua_type(L, index) != LUA_TNUMBER)
        throw ResourceFailure("InvalidArgument", fmt::format("{}: {} must be a string, not {}", files.name(), what,
                                                             luaL_typename(L, index)));
    std::size_t size = 0;
    const char* text = lua_tolstring(L, index, &size);
    return std::string(text, size);
}

void push_string(lua_State* L, const std::string& text) { lua_pushlstring(L, text.data(), text.size()); }

int run_operation(lua_State* L, Operation operation) {
    auto* files = static_cast<FilesResource*>(lua_touserdata(L, lua_upvalueindex(1)));
    const int first = lua_rawequal(L, 1, lua_upvalueindex(2)) ? 2 : 1;  // files:method(...) or files.method(...)
    auto arg = [&](int offset, const char* what) { return string_arg(L, first + offset, *files, what); };
    switch (operation) {
    case Operation::read: push_string(L, files->read(arg(0, "the path"))); return 1;
    case Operation::exists: lua_pushboolean(L, files->exists(arg(0, "the path"))); return 1;
    case Operation::write: files->write(arg(0, "the path"), arg(1, "the text")); return 0;
    case Operation::append: files->append(arg(0, "the path"), arg(1, "the text")); return 0;
    case Operation::move: files->move(arg(0, "the source path"), arg(1, "the target path")); return 0;
    case Operation::remove: files->remove(arg(0, "the path")); return 0;
    case Operation::list: {
        const std::string glob = lua_isnoneornil(L, first) ? std::string("**") : arg(0, "the glob");
        const auto paths = files->list(glob);
        lua_createtable(L, static_cast<int>(paths.size()), 0);
        for (std::size_t i = 0; i < paths.size(); ++i) {
            push_string(L, paths[i]);
            lua_rawseti(L, -2, static_cast<int>(i + 1));
        }
        return 1;
    }
    }
    return 0;
}

template <Operation operation>
int binding_function(lua_State* L) {
    return resource_call(L, [&] { return run_operation(L, operation); });
}

}  // namespace

void push_files_binding(lua_State* L, FilesResource* files) {
    lua_createtable(L, 0, 7);
    const int table = lua_gettop(L);
    auto add = [&](const char* name, lua_CFunction function) {
        lua_pushlightuserdata(L, files);
        lua_pushvalue(L, table);
        lua_pushcclosure(L, function, 2);
        lua_setfield(L, table, name);
    };
    add("read", binding_function<Operation::read>);
    add("write", binding_function<Operation::write>);
    add("append", binding_function<Operation::append>);
    add("list", binding_function<Operation::list>);
    add("move", binding_function<Operation::move>);
    add("remove", binding_function<Operation::remove>);
    add("exists", binding_function<Operation::exists>);
}

}  // namespace statenet::detail
