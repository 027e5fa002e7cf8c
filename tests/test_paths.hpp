// Paths of the test fixtures, shared by the doctest files.
#pragma once

#include <filesystem>
#include <string>

namespace statenet_test {

/// tests/workflows/exec: workflows and Lua modules of the execution tests.
inline const std::filesystem::path exec_dir = std::filesystem::path(STATENET_SOURCE_DIR) / "tests/workflows/exec";

/// tests/workflows/cli: the workflows the CLI tests run, also used by the stream tests.
inline const std::filesystem::path cli_dir = std::filesystem::path(STATENET_SOURCE_DIR) / "tests/workflows/cli";

/// A database path in a scratch folder for `suite`, with no database there yet (nor its
/// WAL and shared-memory files from an earlier run).
inline std::filesystem::path fresh_db_path(const char* suite, const char* name) {
    auto dir = std::filesystem::temp_directory_path() / suite;
    std::filesystem::create_directories(dir);
    auto path = dir / name;
    for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path.string() + suffix);
    return path;
}

/// tests/workflows/history: workflows and Lua modules of the execution history tests.
inline const std::filesystem::path history_dir = std::filesystem::path(STATENET_SOURCE_DIR) / "tests/workflows/history";

/// tests/workflows/sandbox: workflows and Lua modules of the sandbox and limits tests.
inline const std::filesystem::path sandbox_dir = std::filesystem::path(STATENET_SOURCE_DIR) / "tests/workflows/sandbox";

}  // namespace statenet_test
