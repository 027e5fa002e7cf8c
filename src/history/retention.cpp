// Retention: one transaction deleting the runs beyond max_runs, older than max_age or before a time.
#include "history/retention.hpp"

#include "history/schema.hpp"

#include <SQLiteCpp/SQLiteCpp.h>
#include <fmt/format.h>

#include <algorithm>
#include <climits>

namespace statenet::detail {

std::int64_t prune_history(SQLite::Database& db, const PruneOptions& options) {
    // The oldest run to keep, by row id (rows are appended in start order).
    std::int64_t keep_from = 0;
    if (options.max_runs && *options.max_runs <= 0) {
        keep_from = INT64_MAX;
    } else if (options.max_runs) {
        SQLite::Statement q(db, "SELECT id FROM runs ORDER BY id DESC LIMIT 1 OFFSET ?");
        q.bind(1, *options.max_runs - 1);
        keep_from = q.executeStep() ? q.getColumn(0).getInt64() : 0;
    }
    std::int64_t before = INT64_MIN;
    if (options.max_age_seconds) before = history_now_us() - *options.max_age_seconds * 1000000;
    if (options.before_us) before = std::max(before, *options.before_us);
    if (keep_from <= 1 && before == INT64_MIN) return 0;

    SQLite::Transaction tx(db, SQLite::TransactionBehavior::IMMEDIATE);
    db.exec("CREATE TEMP TABLE IF NOT EXISTS doomed (id INTEGER PRIMARY KEY)");
    db.exec("DELETE FROM doomed");
    SQLite::Statement select(db, "INSERT INTO doomed SELECT id FROM runs WHERE id < ? OR started_us < ?");
    select.bind(1, keep_from);
    select.bind(2, before);
    select.exec();
    const int deleted = db.exec("DELETE FROM runs WHERE id IN (SELECT id FROM doomed)");
    db.exec("DELETE FROM doomed");
    tx.commit();
    return deleted;
}

}  // namespace statenet::detail
