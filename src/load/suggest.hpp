// Did-you-mean suggestions for misspelt keys and names.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace statenet::detail {

/// "did you mean 'x'?" suggestion among `candidates`, or empty.
std::string suggest(std::string_view word, const std::vector<std::string_view>& candidates);

}  // namespace statenet::detail
