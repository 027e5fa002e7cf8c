// SourceSnapshot: the Lua files one workflow version loads, read once and shared by its VMs.
#pragma once

#include <lua.hpp>

#include <map>
#include <mutex>
#include <optional>
#include <string>

namespace statenet::detail {

/// Every VM of one loaded workflow version runs the same Lua code, whatever happens to
/// the files on disk later: each file is read the first time a VM loads it and kept.
class SourceSnapshot {
public:
    /// The file's text as first read; nullopt when it cannot be read.
    std::optional<std::string> text(const std::string& path);
    /// Like luaL_loadfile (same chunk name, same messages) on the kept text.
    int load(lua_State* L, const std::string& path);

private:
    std::mutex mutex_;
    std::map<std::string, std::string> texts_;
};

}  // namespace statenet::detail
