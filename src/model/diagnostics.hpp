// Where a workflow problem is (Loc) and the list a load collects them in (Diagnostics).
#pragma once

#include <statenet/error.hpp>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace statenet::detail {

struct Loc {
    std::string file;
    int line = 0;    // 1-based, 0 = unknown
    int column = 0;  // 1-based, 0 = unknown
};

/// One step of the path from a Lua workflow's returned table to a value in it.
struct PathKey {
    bool is_index = false;
    std::string key;         // when !is_index
    std::int64_t index = 0;  // when is_index (1-based Lua index)
};

/// Collects load problems; loading fails at the end if any were reported.
struct Diagnostics {
    std::vector<Diagnostic> list;
    void error(const Loc& loc, std::string message) {
        list.push_back({loc.file, loc.line, loc.column, std::move(message)});
    }
    bool empty() const noexcept { return list.empty(); }
    /// In file, line and column order (problems are found in several passes).
    void sort();
};

}  // namespace statenet::detail
