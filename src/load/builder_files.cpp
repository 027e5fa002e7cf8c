// The model builder's `[resources.<name>] type = "files"`: root, create.
#include "load/builder.hpp"

#include <fmt/format.h>

#include <filesystem>

namespace statenet::detail {

void Builder::read_files_resource(const Node& body, ResourceDecl& r) {
    check_keys(body, files_resource_keys, fmt::format("files resource '{}'", r.name));
    if (auto root = string_of(body, "root", true)) {
        if (root->empty()) d_.error(body.field("root")->loc, "'root' must name a directory");
        std::filesystem::path p(*root);
        r.root = p.is_absolute() ? *root : (std::filesystem::path(m_.dir) / p).lexically_normal().string();
    }
    if (auto create = bool_of(body, "create")) r.create = *create;
}

}  // namespace statenet::detail
