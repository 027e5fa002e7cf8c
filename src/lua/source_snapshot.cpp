// SourceSnapshot: the files one workflow version is made of, read once and shared by its VMs.
#include "lua/source_snapshot.hpp"

#include <algorithm>
#include <fstream>
#include <iterator>

namespace statenet::detail {

namespace {

namespace fs = std::filesystem;

std::optional<std::string> read_all(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return std::nullopt;
    return std::string{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

/// Each '?' of a package.path template replaced by the module's file name.
std::string fill_template(std::string_view pattern, const std::string& file_name) {
    std::string path;
    for (char c : pattern) {
        if (c == '?') path += file_name;
        else path += c;
    }
    return path;
}

}  // namespace

std::optional<FileStamp> stamp_of(const fs::path& path) {
    std::error_code ec;
    if (!fs::is_regular_file(path, ec)) return std::nullopt;
    FileStamp stamp;
    stamp.time = fs::last_write_time(path, ec);
    if (ec) return std::nullopt;
    stamp.size = fs::file_size(path, ec);
    if (ec) return std::nullopt;
    return stamp;
}

const SourceSnapshot::File* SourceSnapshot::read(const std::string& path, std::string_view module) {
    if (auto it = index_.find(path); it != index_.end()) return &files_[it->second];
    auto stamp = stamp_of(path);
    auto text = read_all(path);
    if (!stamp || !text) return nullptr;
    index_.emplace(path, files_.size());
    return &files_.emplace_back(
        File{path, std::string(module), std::make_shared<const std::string>(std::move(*text)), *stamp});
}

std::optional<std::string> SourceSnapshot::text(const std::string& path) {
    std::lock_guard lock(mutex_);
    const File* file = read(path, {});
    if (!file) return std::nullopt;
    return *file->text;
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

/// Lua's package.searchpath: the templates of `search_path` are separated by ';', the
/// module's dots become '/'; the first template naming a readable file wins. `tried`
/// gets Lua's "\n\tno file '...'" list of the others. What was found is kept, so every
/// VM of the version finds the same file.
std::optional<std::string> SourceSnapshot::search(const std::string& module, std::string_view search_path,
                                                  std::string& tried) {
    std::string key = module;
    key += '\0';
    key += search_path;
    if (auto known = found_.find(key); known != found_.end()) return known->second;
    std::string file_name = module;
    std::replace(file_name.begin(), file_name.end(), '.', '/');
    for (std::size_t at = 0; at < search_path.size();) {
        const std::size_t next = std::min(search_path.find(';', at), search_path.size());
        if (next > at) {
            std::string candidate = fill_template(search_path.substr(at, next - at), file_name);
            if (read(candidate, module)) {
                found_.emplace(key, candidate);
                return candidate;
            }
            if (!is_engine_module(module)) misses_.insert(candidate);
            tried += "\n\tno file '" + candidate + "'";
        }
        at = next + 1;
    }
    return std::nullopt;
}

std::optional<std::pair<std::string, std::shared_ptr<const std::string>>> SourceSnapshot::find_module(
    const std::string& module, std::string_view search_path, std::string& tried) {
    std::lock_guard lock(mutex_);
    auto path = search(module, search_path, tried);
    if (!path) return std::nullopt;
    return std::make_pair(*path, files_[index_.at(*path)].text);
}

int SourceSnapshot::load_module(lua_State* L, const std::string& module, std::string_view search_path) {
    std::string tried;
    const auto found = find_module(module, search_path, tried);
    if (!found) {
        lua_pushlstring(L, tried.data(), tried.size());
        return 1;
    }
    const auto& [path, source] = *found;
    const std::string chunk_name = "@" + path;
    if (luaL_loadbuffer(L, source->data(), source->size(), chunk_name.c_str()) != 0)
        return luaL_error(L, "error loading module '%s' from file '%s':\n\t%s", module.c_str(), path.c_str(),
                          lua_tostring(L, -1));
    return 1;
}

std::vector<SourceSnapshot::File> SourceSnapshot::files() const {
    std::lock_guard lock(mutex_);
    return files_;
}

std::vector<std::string> SourceSnapshot::misses() const {
    std::lock_guard lock(mutex_);
    return {misses_.begin(), misses_.end()};
}

std::vector<SourceSnapshot::File> SourceSnapshot::scripts(const std::vector<std::string>& dirs) {
    std::lock_guard lock(mutex_);
    if (scripts_) return *scripts_;
    scripts_.emplace();
    for (const auto& dir : dirs) {
        std::error_code ec;
        for (fs::recursive_directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
            if (!it->is_regular_file(ec) || it->path().extension() != ".lua") continue;
            auto stamp = stamp_of(it->path());
            auto text = read_all(it->path().string());
            if (stamp && text)
                scripts_->push_back(File{it->path().string(), it->path().lexically_relative(dir).generic_string(),
                                         std::make_shared<const std::string>(std::move(*text)), *stamp});
        }
    }
    return *scripts_;
}

}  // namespace statenet::detail
