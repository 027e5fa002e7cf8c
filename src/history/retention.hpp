// Retention: deleting old runs and their steps (max_runs, max_age), at writer start and from the CLI.
#pragma once

#include <statenet/history.hpp>

namespace SQLite {
class Database;
}

namespace statenet::detail {

/// Deletes the runs the options select, with their steps, in one transaction; returns
/// how many runs went.
std::int64_t prune_history(SQLite::Database& db, const PruneOptions& options);

}  // namespace statenet::detail
