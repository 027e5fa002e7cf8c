// The history database: its schema, and opening it for the writer or for queries.
#pragma once

#include <SQLiteCpp/Database.h>

#include <cstdint>
#include <memory>
#include <string>

namespace statenet::detail {

/// A step's row id: its run's id in the high bits, its seq (1..2^20-1) in the low 20,
/// so a run's steps are one contiguous rowid range and are appended in order.
inline constexpr int step_seq_bits = 20;
inline constexpr std::int64_t max_steps_per_run = (std::int64_t{1} << step_seq_bits) - 1;
inline std::int64_t step_key(std::int64_t run, std::int64_t seq) { return (run << step_seq_bits) | seq; }

/// Opens (creating when `create`) a history database in WAL mode with the schema in
/// place; synchronous=FULL when `durability_full`, else NORMAL. Throws HistoryError.
std::unique_ptr<SQLite::Database> open_history_db(const std::string& path, bool create, bool durability_full = false);

}  // namespace statenet::detail
