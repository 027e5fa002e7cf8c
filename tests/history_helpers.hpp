// What the history tests share: load options that record into a database, and loading a workflow text as if it
// were a file in tests/workflows/history (so hist.lua is found).
#pragma once

#include "test_paths.hpp"

#include <statenet/statenet.hpp>

#include <filesystem>
#include <optional>
#include <string>

namespace history_test {

inline statenet::LoadOptions history_in(const std::filesystem::path& db,
                                        std::optional<statenet::HistoryLevel> level = std::nullopt) {
    statenet::LoadOptions options;
    options.history_db = db;
    options.history_level = level;
    return options;
}

inline statenet::Workflow load_text(statenet::Engine& engine, const std::string& toml,
                                    const statenet::LoadOptions& options) {
    return engine.load_string(toml, statenet_test::history_dir / "inline.toml", options);
}

}  // namespace history_test
