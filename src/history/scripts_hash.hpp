// The scripts content hash history records with every run: the workflow file and its Lua modules.
#pragma once

#include "model/model.hpp"

#include <string>
#include <string_view>

namespace statenet::detail {

/// 16 hex digits (FNV-1a, 64 bits) over the workflow text, the file of every module its
/// function references name (found like `require` finds them: the module directories,
/// then the stdlib) and every `.lua` file under its `scripts` directories, in a fixed
/// order. A change to any of them changes the hash; it is a change detector, not a
/// cryptographic digest.
std::string scripts_content_hash(const Model& model, std::string_view workflow_text, const std::string& stdlib_dir);

}  // namespace statenet::detail
