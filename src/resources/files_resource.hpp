// The `files` resource: a rooted directory whose writes follow the record's transaction,
// and its Lua face.
#pragma once

#include "resources/meter.hpp"
#include "resources/staged_work.hpp"

#include <lua.hpp>

#include <cstddef>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace statenet::detail {

struct FilesConfig {
    std::string name;    // the resource's name in the workflow
    std::string root;    // directory (resolved)
    bool create = true;  // create the root when it is missing
};

/// One runner's view of a rooted directory. Paths are relative to the root, '/'
/// separated; absolute paths, '..' and paths that lead outside the root through a
/// symbolic link are refused (`PathEscape`). Reads see the disk plus what this runner
/// has staged; write, append, move and remove are staged and reach the disk only at
/// commit(), in order (a write as a temp file renamed over the target). Not
/// thread-safe: one runner at a time. Errors are ResourceFailure (`PathEscape`,
/// `FileNotFound`, `InvalidArgument`, `ResourceError`).
class FilesResource final : public StagedWork {
public:
    /// Opens the root (creating it when `create`). Throws ResourceFailure.
    explicit FilesResource(FilesConfig config);

    std::string read(std::string_view path) const;
    bool exists(std::string_view path) const;
    /// Files (not directories) whose relative path matches `glob`, sorted. `*` and `?`
    /// stay within one directory, `**` crosses directories (`**/` also matches none).
    std::vector<std::string> list(std::string_view glob) const;
    void write(std::string_view path, std::string text);
    void append(std::string_view path, std::string text);
    void move(std::string_view from, std::string_view to);
    void remove(std::string_view path);

    const std::string& name() const noexcept override { return config_.name; }
    std::size_t mark() const noexcept override { return log_.size(); }
    void rollback_to(std::size_t mark) noexcept override;
    void commit() override;
    void discard() noexcept override;
    std::size_t pending() const noexcept override { return log_.size(); }

    /// The prefix of the temp files a write renames into place; list() never shows them.
    static constexpr std::string_view temp_prefix = ".statenet-tmp-";

private:
    struct Op {
        enum class Kind { write, append, move, remove };
        Kind kind;
        std::string path, to, text;
    };
    /// A file as this runner sees it: absent, or `text` appended to the disk file at
    /// `disk` (a relative path as it is before commit) or to nothing.
    struct Staged {
        bool exists = false;
        std::optional<std::string> disk;
        std::string text;
    };

    FilesConfig config_;
    std::filesystem::path root_;  // canonical
    std::vector<Op> log_;
    std::map<std::string, Staged> view_;  // staged files by relative path

    std::string checked(std::string_view path) const;
    std::filesystem::path resolved(const std::string& relative) const;
    Staged lookup(const std::string& relative) const;
    void stage(const Op& op);
    void apply(const Op& op);
    void replace_file(const std::filesystem::path& target, const std::string& text);
};

/// Pushes the Lua table of `files` (read, write, append, list, move, remove, exists;
/// callable as `files:read(...)` or `files.read(...)`), its calls counted in `meter`
/// (may be null). `files` and `meter` must outlive its use.
void push_files_binding(lua_State* L, FilesResource* files, ResourceMeter* meter);

/// Does `glob` match the relative path `path`?
bool glob_match(std::string_view glob, std::string_view path) noexcept;

}  // namespace statenet::detail
