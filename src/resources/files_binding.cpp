// The files resource's Lua face: read, write, append, list, move, remove, exists.
#include "resources/binding.hpp"
#include "resources/files_resource.hpp"

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
    auto* files = method_self<FilesResource>(L);
    const int first = first_argument(L);
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

void push_files_binding(lua_State* L, FilesResource* files, ResourceMeter* meter) {
    push_method_table(L, files, nullptr, meter,
                      {{"read", binding_function<Operation::read>},
                       {"write", binding_function<Operation::write>},
                       {"append", binding_function<Operation::append>},
                       {"list", binding_function<Operation::list>},
                       {"move", binding_function<Operation::move>},
                       {"remove", binding_function<Operation::remove>},
                       {"exists", binding_function<Operation::exists>}});
}

}  // namespace statenet::detail
