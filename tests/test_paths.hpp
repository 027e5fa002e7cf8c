// Paths of the test fixtures, shared by the doctest files.
#pragma once

#include <filesystem>

namespace statenet_test {

/// tests/workflows/exec: workflows and Lua modules of the execution tests.
inline const std::filesystem::path exec_dir =
    std::filesystem::path(STATENET_SOURCE_DIR) / "tests/workflows/exec";

}  // namespace statenet_test
