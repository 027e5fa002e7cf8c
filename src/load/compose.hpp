// Workflow composition on the located document tree: `extends`, `include`, an instance
// file's `pattern`, and `[profiles.NAME]` overlays (docs/workflow-format.md#composition).
#pragma once

#include "load/node.hpp"
#include "model/diagnostics.hpp"

#include <optional>
#include <string>

namespace statenet::detail {

class SourceSnapshot;

/// How `std:NAME` is spelt where a workflow file can stand: the pattern
/// `<stdlib>/patterns/NAME/workflow.toml`.
inline constexpr std::string_view pattern_prefix = "std:";

/// The file `std:NAME` names under `stdlib_dir`; empty when `ref` does not start with
/// `std:` (a plain path, to be taken relative to the file that names it).
std::string pattern_file(std::string_view ref, const std::string& stdlib_dir);

/// What composing a document needs besides the tree.
struct ComposeContext {
    std::string stdlib_dir;
    /// The profile asked for (LoadOptions::profile, else $STATENET_PROFILE) and whether it
    /// came from the environment (then a workflow without [profiles] ignores it).
    std::optional<std::string> profile;
    bool profile_from_env = false;
    /// The version's files: each extended or included file is read through it, so the
    /// scripts hash and hot reload's file watch cover it.
    SourceSnapshot& sources;
};

/// Replaces `root` (the entry file's tree) by the composed document: its `extends` base,
/// then its `include`s in order, then itself (tables merge deep, other values replace;
/// two includes setting one key to different values conflict), then the chosen profile
/// overlaid; the `scripts` of every file are kept (each relative to its own file) and
/// every file's directory joins the module path. The composition keys are removed. In an
/// instance file (`pattern = "std:etl"`) `[params]` holds values: they are moved to
/// `param_values`. Problems (unreadable or cyclic files, conflicts, an unknown profile)
/// go to `diags` at the key that caused them.
void compose(Node& root, const ComposeContext& context, Node& param_values, Diagnostics& diags);

}  // namespace statenet::detail
