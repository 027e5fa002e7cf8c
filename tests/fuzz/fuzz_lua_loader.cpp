// libFuzzer harness: a Lua workflow file through the Lua reader and the model builder.
// The chunk runs in a VM of its own with only the pure libraries (no io, os, package,
// ffi, debug, jit), the JIT off so a count hook stops endless loops, and an allocator
// capped at 64 MB: the harness looks for bugs in statenet, not in what a chunk may do.
#include "fuzz_support.hpp"

#include "load/loader.hpp"
#include "load/lua_reader.hpp"

#include <lua.hpp>

#include <cstdint>
#include <cstdlib>

namespace {

constexpr std::size_t memory_cap = std::size_t{64} << 20;
std::size_t allocated = 0;

void* capped_alloc(void*, void* block, std::size_t old_size, std::size_t new_size) {
    if (new_size == 0) {
        allocated -= block ? old_size : 0;
        std::free(block);
        return nullptr;
    }
    const std::size_t before = block ? old_size : 0;
    if (new_size > before && allocated + (new_size - before) > memory_cap) return nullptr;
    void* moved = std::realloc(block, new_size);
    if (moved) allocated = allocated - before + new_size;
    return moved;
}

void stop_endless(lua_State* L, lua_Debug*) { luaL_error(L, "instruction budget spent"); }

lua_State* pure_vm() {
    lua_State* L = lua_newstate(capped_alloc, nullptr);
    if (!L) L = luaL_newstate();  // a build that refuses custom allocators
    luaJIT_setmode(L, 0, LUAJIT_MODE_ENGINE | LUAJIT_MODE_OFF);
    struct Library {
        const char* name;
        lua_CFunction open;
    };
    for (const Library& library : {Library{"", luaopen_base}, Library{LUA_TABLIBNAME, luaopen_table},
                                   Library{LUA_STRLIBNAME, luaopen_string}, Library{LUA_MATHLIBNAME, luaopen_math}}) {
        lua_pushcfunction(L, library.open);
        lua_pushstring(L, library.name);
        lua_call(L, 1, 0);
    }
    for (const char* unsafe : {"dofile", "loadfile", "collectgarbage"}) {
        lua_pushnil(L);
        lua_setglobal(L, unsafe);
    }
    lua_sethook(L, stop_endless, LUA_MASKCOUNT, 1000000);
    return L;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const auto file = statenet_fuzz::write_input("fuzz.lua", data, size);
    lua_State* L = pure_vm();
    statenet::detail::Node root;
    statenet::detail::Diagnostics diags;
    if (statenet::detail::read_lua_workflow(L, file.string(), root, diags)) {
        statenet::detail::Model model;
        model.file = file.string();
        model.dir = file.parent_path().string();
        statenet::detail::build_model(root, model, diags);
    }
    lua_close(L);
    return 0;
}
