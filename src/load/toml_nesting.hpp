// A pre-scan of TOML text for how deeply it nests, before toml++ parses it: toml++
// recurses once per dotted-key segment, so a key 100,000 segments long overflows the
// stack inside the parser.
#pragma once

#include "load/node.hpp"

#include <optional>
#include <string>
#include <string_view>

namespace statenet::detail {

/// Where the text first nests deeper than max_nesting_depth, counting the root table as
/// level 1, each table header or dotted-key segment as the table it opens, and each
/// array or inline table as one more level; nothing when it stays within the limit.
/// Only tracks nesting: malformed text is left for the parser to report, and text this
/// scan misreads can only make it count too few levels for toml++'s own array and
/// inline-table limit, never too few key segments.
std::optional<Loc> find_excess_nesting(std::string_view text, const std::string& file);

}  // namespace statenet::detail
