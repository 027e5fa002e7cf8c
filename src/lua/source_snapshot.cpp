// SourceSnapshot: the Lua files one workflow version loads, read once and shared by its VMs.
#include "lua/source_snapshot.hpp"

#include <fstream>
#include <iterator>

namespace statenet::detail {

std::optional<std::string> SourceSnapshot::text(const std::string& path) {
    std::lock_guard lock(mutex_);
    if (auto it = texts_.find(path); it != texts_.end()) return it->second;
    std::ifstream in(path, std::ios::binary);
    if (!in) return std::nullopt;
    std::string text{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
    texts_.emplace(path, text);
    return text;
}

int SourceSnapshot::load(lua_State* L, const std::string& path) {
    auto source = text(path);
    if (!source) {
        lua_pushfstring(L, "cannot open %s", path.c_str());
        return LUA_ERRFILE;
    }
    const std::string chunk_name = "@" + path;
    return luaL_loadbuffer(L, source->data(), source->size(), chunk_name.c_str());
}

}  // namespace statenet::detail
