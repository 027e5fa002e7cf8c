// The scripts content hash: which files make up a workflow's code, and their FNV-1a hash.
#include "history/scripts_hash.hpp"

#include "lua/source_snapshot.hpp"

#include <fmt/format.h>

#include <map>

namespace statenet::detail {

namespace {

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

}  // namespace

std::string scripts_content_hash(const Model& model, std::string_view workflow_text) {
    // Keyed by a name that does not depend on where the workflow is installed.
    std::map<std::string, std::shared_ptr<const std::string>> texts;
    for (const auto& file : model.sources->files())
        if (!file.module.empty() && !file.engine_module()) texts.emplace("module:" + file.module, file.text);
    for (const auto& file : model.sources->scripts(model.scripts_dirs()))
        texts.emplace("scripts:" + file.module, file.text);
    Fnv1a hash;
    hash.add(workflow_text);
    for (const auto& [name, text] : texts) {
        hash.add(name);
        hash.add(*text);
    }
    return fmt::format("{:016x}", hash.h);
}

}  // namespace statenet::detail
