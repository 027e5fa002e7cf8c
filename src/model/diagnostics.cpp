// Diagnostics: the order problems are reported in.
#include "model/diagnostics.hpp"

#include <algorithm>
#include <tuple>

namespace statenet::detail {

void Diagnostics::sort() {
    std::stable_sort(list.begin(), list.end(), [](const Diagnostic& a, const Diagnostic& b) {
        return std::tie(a.file, a.line, a.column) < std::tie(b.file, b.line, b.column);
    });
}

}  // namespace statenet::detail
