// Paths of the test fixtures, shared by the doctest files.
#pragma once

#include <filesystem>
#include <mutex>
#include <set>
#include <string>

#include <unistd.h>

namespace statenet_test {

/// This process's scratch folder for `suite` under the temporary directory (its name
/// carries the process id, so two test runs at once never share one), removed when the
/// test binary exits.
inline std::filesystem::path scratch_root(const std::string& suite) {
    struct Roots {
        std::mutex mutex;
        std::set<std::filesystem::path> made;
        ~Roots() {
            std::error_code ignored;
            for (const auto& root : made) std::filesystem::remove_all(root, ignored);
        }
    };
    static Roots roots;
    auto root = std::filesystem::temp_directory_path() / (suite + "_" + std::to_string(::getpid()));
    std::lock_guard lock(roots.mutex);
    roots.made.insert(root);
    return root;
}

/// tests/workflows/exec: workflows and Lua modules of the execution tests.
inline const std::filesystem::path exec_dir = std::filesystem::path(STATENET_SOURCE_DIR) / "tests/workflows/exec";

/// tests/workflows/cli: the workflows the CLI tests run, also used by the stream tests.
inline const std::filesystem::path cli_dir = std::filesystem::path(STATENET_SOURCE_DIR) / "tests/workflows/cli";

/// A database path in a scratch folder for `suite`, with no database there yet (nor its
/// WAL and shared-memory files from an earlier run).
inline std::filesystem::path fresh_db_path(const char* suite, const char* name) {
    auto dir = scratch_root(suite);
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
