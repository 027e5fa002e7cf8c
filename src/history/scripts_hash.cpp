// The scripts content hash: which files make up a workflow's code, and their FNV-1a hash.
#include "history/scripts_hash.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

namespace statenet::detail {

namespace {

namespace fs = std::filesystem;

struct Fnv1a {
    std::uint64_t h = 0xcbf29ce484222325ULL;
    void add(std::string_view bytes) {
        for (unsigned char c : bytes) {
            h ^= c;
            h *= 0x100000001b3ULL;
        }
        // A separator, so that ("ab", "c") and ("a", "bc") differ.
        h ^= 0xff;
        h *= 0x100000001b3ULL;
    }
};

std::string read_all(const fs::path& file) {
    std::ifstream in(file, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

/// Where `require(module)` finds the module, or an empty path.
fs::path find_module(const std::string& module, const std::vector<std::string>& dirs) {
    std::string relative = module;
    std::replace(relative.begin(), relative.end(), '.', '/');
    std::error_code ec;
    for (const auto& dir : dirs)
        for (const fs::path& candidate : {fs::path(dir) / (relative + ".lua"), fs::path(dir) / relative / "init.lua"})
            if (fs::is_regular_file(candidate, ec)) return candidate;
    return {};
}

}  // namespace

std::string scripts_content_hash(const Model& model, std::string_view workflow_text, const std::string& stdlib_dir) {
    // Keyed by a name that does not depend on where the workflow is installed.
    std::map<std::string, fs::path> files;
    std::vector<std::string> search = model.module_dirs;
    search.push_back(stdlib_dir);
    for (const FnRef& fn : model.functions) {
        if (fn.kind != FnRef::Kind::named && fn.kind != FnRef::Kind::factory) continue;
        if (fs::path found = find_module(fn.module, search); !found.empty())
            files.emplace("module:" + fn.module, found);
    }
    std::error_code ec;
    // module_dirs[0] is the workflow's own directory; the rest are its `scripts` dirs.
    for (std::size_t i = 1; i < model.module_dirs.size(); ++i) {
        const fs::path dir(model.module_dirs[i]);
        for (fs::recursive_directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec))
            if (it->is_regular_file(ec) && it->path().extension() == ".lua")
                files.emplace("scripts:" + it->path().lexically_relative(dir).generic_string(), it->path());
    }
    Fnv1a hash;
    hash.add(workflow_text);
    for (const auto& [name, path] : files) {
        hash.add(name);
        hash.add(read_all(path));
    }
    return fmt::format("{:016x}", hash.h);
}

}  // namespace statenet::detail
