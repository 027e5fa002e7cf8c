// SourceSnapshot: the files one workflow version is made of, read once and shared by its VMs.
#pragma once

#include <lua.hpp>

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace statenet::detail {

/// A file's modification time and size: an edit changes one of them (the size too, since a
/// coarse file system may give an edit the same modification time).
struct FileStamp {
    std::filesystem::file_time_type time;
    std::uintmax_t size = 0;
    bool operator==(const FileStamp&) const = default;
};

/// The stamp of the regular file at `path` now; nullopt when there is none.
std::optional<FileStamp> stamp_of(const std::filesystem::path& path);

/// The engine's own Lua runtime (`statenet.*`): loaded like any module, but not part of a
/// version's code.
inline bool is_engine_module(std::string_view module) { return module.starts_with("statenet."); }

/// The one list of a version's code. Every VM of one loaded workflow version runs the
/// same Lua code, whatever happens to the files on disk later: each file is read the first
/// time a VM loads it and kept, and each module is searched for once. The scripts hash
/// (history/scripts_hash.hpp) and hot reload's file watch (machine/file_watch.hpp) are
/// derived from what it recorded. Thread-safe: the VMs of a version share it.
class SourceSnapshot {
public:
    struct File {
        std::string path;
        std::string module;                       ///< the name `require` found it by; empty for a file loaded by path
        std::shared_ptr<const std::string> text;  ///< shared: copies of the list stay cheap
        FileStamp stamp;                          ///< taken before the text was read, so a later edit always differs

        bool engine_module() const { return is_engine_module(module); }
    };

    /// The file's text as first read; nullopt when it cannot be read.
    std::optional<std::string> text(const std::string& path);
    /// Like luaL_loadfile (same chunk name, same messages) on the kept text.
    int load(lua_State* L, const std::string& path);
    /// package.loaders[2] for `require(module)`: searches `search_path` (package.path) as
    /// Lua's package.searchpath does, the first time for each module, and loads the file
    /// found from the kept text. Pushes the loaded chunk, or Lua's "no file" list when
    /// nothing was found (returns 1 then too); raises a Lua error when the file does not load.
    int load_module(lua_State* L, const std::string& module, std::string_view search_path);
    /// Finds `module` on `search_path` as `require` would and records it (or the paths
    /// tried): its path and text, or nullopt with Lua's "no file" list in `tried`.
    std::optional<std::pair<std::string, std::shared_ptr<const std::string>>> find_module(const std::string& module,
                                                                                          std::string_view search_path,
                                                                                          std::string& tried);

    /// Every file read so far, in the order first read: the workflow file when it was
    /// loaded by path (a Lua workflow, or the file watch asked for it), each module.
    std::vector<File> files() const;
    /// Where the module search found no file: one appearing there changes what `require` finds.
    std::vector<std::string> misses() const;
    /// The `.lua` files under `dirs` (recursively), listed and read the first time it is
    /// called and kept; `module` is each file's path relative to its directory.
    std::vector<File> scripts(const std::vector<std::string>& dirs);

private:
    mutable std::mutex mutex_;
    std::map<std::string, std::size_t> index_;  // path -> files_ entry
    std::vector<File> files_;                   // in the order read
    std::map<std::string, std::string> found_;  // module name and search path -> the file found
    std::set<std::string> misses_;
    std::optional<std::vector<File>> scripts_;

    const File* read(const std::string& path, std::string_view module);
    std::optional<std::string> search(const std::string& module, std::string_view search_path, std::string& tried);
};

}  // namespace statenet::detail
