// The scripts content hash history records with every run: the workflow file and its Lua modules.
#pragma once

#include "model/model.hpp"

#include <string>
#include <string_view>

namespace statenet::detail {

/// 16 hex digits (FNV-1a, 64 bits) over the workflow text, every Lua module the version
/// loaded so far (model.sources: what `require` found, the engine's own `statenet.*`
/// modules left out) and every `.lua` file under its `scripts` directories (which a
/// function may require later), in a fixed order. A change to any of them changes the
/// hash; it is a change detector, not a cryptographic digest. Called once the first VM
/// resolved the functions.
std::string scripts_content_hash(const Model& model, std::string_view workflow_text);

}  // namespace statenet::detail
