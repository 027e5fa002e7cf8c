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
    // Files read by path besides the workflow's own (those it extends or includes), by
    // the order they were read in: the same composition reads them in the same order.
    std::size_t read_by_path = 0;
    for (const auto& file : model.sources->files()) {
        if (file.engine_module()) continue;
        if (!file.module.empty()) texts.emplace("module:" + file.module, file.text);
        else if (file.path != model.file) texts.emplace(fmt::format("file:{:04}", read_by_path++), file.text);
    }
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
