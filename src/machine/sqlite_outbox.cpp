#include "machine/sqlite_outbox.hpp"

#include <fmt/format.h>

namespace statenet::detail {

namespace {

constexpr const char* outbox_schema = R"sql(
CREATE TABLE IF NOT EXISTS statenet_outbox (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  instance TEXT NOT NULL,
  event TEXT NOT NULL,
  time_ms REAL NOT NULL,
  topic TEXT,
  target TEXT,
  target_event TEXT,
  payload TEXT NOT NULL,
  done INTEGER NOT NULL DEFAULT 0,
  error TEXT
);
CREATE INDEX IF NOT EXISTS statenet_outbox_open ON statenet_outbox(done, seq);
)sql";

std::size_t changed(SQLite::Database& db, const std::string& sql, double at) {
    SQLite::Statement q(db, sql);
    q.bind(1, at);
    return static_cast<std::size_t>(q.exec());
}

/// Adds `column` to `table` unless the table has it already.
void add_missing_column(SQLite::Database& db, const char* table, const char* column, const char* declaration) {
    SQLite::Statement q(db, "SELECT count(*) FROM pragma_table_info(?) WHERE name = ?");
    q.bind(1, table);
    q.bind(2, column);
    if (q.executeStep() && q.getColumn(0).getInt() == 0)
        db.exec(fmt::format("ALTER TABLE {} ADD COLUMN {} {}", table, column, declaration));
}

}  // namespace

void create_outbox_schema(SQLite::Database& db) {
    db.exec(outbox_schema);
    // Stores written before [retention] have keys without the time they were sent (those
    // count as sent at time 0), before `@previous` instances without where they came from,
    // and before machines took push arcs instances without a push stack (NULL: none).
    add_missing_column(db, "statenet_keys", "time_ms", "REAL NOT NULL DEFAULT 0");
    add_missing_column(db, "statenet_instances", "previous", "TEXT");
    add_missing_column(db, "statenet_instances", "stack", "TEXT");
}

SqliteOutbox::SqliteOutbox(SQLite::Database& db)
    : db_(db),
      append_(std::make_unique<SQLite::Statement>(
          db,
          "INSERT INTO statenet_outbox (instance, event, time_ms, topic, target, target_event, payload) "
          "VALUES (?, ?, ?, ?, ?, ?, ?)")) {}

std::int64_t SqliteOutbox::append(const OutboxEntry& e) {
    SQLite::Statement& s = *append_;
    s.reset();
    s.clearBindings();
    s.bind(1, e.instance);
    s.bind(2, e.event);
    s.bind(3, e.time_ms);
    if (!e.topic.empty()) s.bind(4, e.topic);
    if (!e.target.empty()) {
        s.bind(5, e.target);
        s.bind(6, e.target_event);
    }
    s.bind(7, e.payload_json);
    s.exec();
    s.reset();
    return db_.getLastInsertRowid();
}

std::vector<OutboxMessage> SqliteOutbox::messages(const OutboxOptions& options) {
    std::string sql =
        "SELECT seq, instance, topic, payload, event, time_ms FROM statenet_outbox "
        "WHERE done = 0 AND topic IS NOT NULL AND seq > ?1";
    if (options.topic) sql += " AND topic = ?2";
    sql += " ORDER BY seq";
    if (options.limit > 0) sql += fmt::format(" LIMIT {}", options.limit);
    SQLite::Statement q(db_, sql);
    q.bind(1, options.after_seq);
    if (options.topic) q.bind(2, *options.topic);
    std::vector<OutboxMessage> out;
    while (q.executeStep())
        out.push_back({q.getColumn(0).getInt64(), q.getColumn(1).getString(), q.getColumn(2).getString(),
                       Value::from_json(q.getColumn(3).getString()), q.getColumn(4).getString(),
                       q.getColumn(5).getDouble()});
    return out;
}

std::size_t SqliteOutbox::ack(const std::vector<std::int64_t>& seqs) {
    SQLite::Statement q(db_, "UPDATE statenet_outbox SET done = 1 WHERE seq = ? AND done = 0 AND topic IS NOT NULL");
    std::size_t acked = 0;
    for (std::int64_t seq : seqs) {
        q.bind(1, seq);
        acked += static_cast<std::size_t>(q.exec());
        q.reset();
    }
    return acked;
}

std::vector<PendingSend> SqliteOutbox::pending_sends(std::size_t limit) {
    SQLite::Statement q(db_,
                        "SELECT seq, target, target_event, payload FROM statenet_outbox "
                        "WHERE done = 0 AND target IS NOT NULL ORDER BY seq LIMIT ?");
    q.bind(1, static_cast<std::int64_t>(limit));
    std::vector<PendingSend> out;
    while (q.executeStep())
        out.push_back({q.getColumn(0).getInt64(), q.getColumn(1).getString(), q.getColumn(2).getString(),
                       q.getColumn(3).getString()});
    return out;
}

void SqliteOutbox::mark_sent(std::int64_t seq, std::string_view error) {
    SQLite::Statement q(db_, "UPDATE statenet_outbox SET done = 1, error = ? WHERE seq = ?");
    if (!error.empty()) q.bind(1, std::string(error));
    q.bind(2, seq);
    q.exec();
}

PruneReport SqliteOutbox::prune(const Retention& retention, double now_ms,
                                std::vector<std::pair<std::string, int>>& removed) {
    PruneReport report;
    if (retention.keys_ms >= 0)
        report.keys = changed(db_, "DELETE FROM statenet_keys WHERE time_ms < ?", now_ms - retention.keys_ms);
    if (retention.audit_ms >= 0)
        report.audit = changed(db_, "DELETE FROM statenet_audit WHERE time_ms < ?", now_ms - retention.audit_ms);
    if (retention.completed_ms >= 0) {
        SQLite::Statement q(db_, "DELETE FROM statenet_instances WHERE completed = 1 AND since_ms < ? RETURNING id");
        q.bind(1, now_ms - retention.completed_ms);
        while (q.executeStep()) removed.emplace_back(q.getColumn(0).getString(), -1);
        report.instances = removed.size();
    }
    report.outbox = static_cast<std::size_t>(db_.exec("DELETE FROM statenet_outbox WHERE done = 1"));
    return report;
}

}  // namespace statenet::detail
