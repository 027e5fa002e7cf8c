// The history schema: workflows, runs and steps tables, created on first open and checked after.
#include "history/schema.hpp"
#include "io/sqlite_open.hpp"

#include <statenet/history.hpp>

#include <SQLiteCpp/Transaction.h>
#include <fmt/format.h>
#include <sqlite3.h>

#include <chrono>
#include <filesystem>
#include <thread>

namespace statenet::detail {

namespace {

// 'SNHI' marks a statenet history database; user_version is the schema version.
constexpr int application_id = 0x534e4849;
// 2: steps stored as numbers (step_data, states) behind the `steps` view.
// 3: a run's steps stored with the run, as one JSON array (runs.steps), behind the views.
// 4: a run's token usage and resource calls (runs.prompt_tokens, completion_tokens, resources).
constexpr int schema_version = 4;

// No secondary index on purpose: runs are appended in rowid order (SQLite's fastest
// insert path, no key comparisons) and carry their steps, so recording a run is one row
// however many steps it took, and a run's steps are read with the run. runs.steps holds
// one array per step: [parent, via, state, arc, attempt, depth, status, duration_ns]
// and, for a step with more to say, [..., arcs, error_name, error_message, error_state,
// changes, reason]; states are `states` rows, via and status codes (StepVia and StepEnd in
// src/exec/run_observer.hpp). The views spell them out; step_rows adds run and seq.
constexpr const char* step_views_sql = R"sql(
CREATE VIEW IF NOT EXISTS step_rows AS
  SELECT r.id AS run, j.key + 1 AS seq, (r.id << 20) + j.key + 1 AS id, nullif(j.value ->> 0, 0) AS parent,
         CASE j.value ->> 1 WHEN 0 THEN 'start' WHEN 1 THEN 'arc' WHEN 2 THEN 'push' WHEN 3 THEN 'return'
                            WHEN 4 THEN 'retry' ELSE 'on_error' END AS via,
         s.network AS network, s.name AS state, coalesce(j.value ->> 8, a.qualified, '') AS arc, '' AS event,
         j.value ->> 4 AS attempt, j.value ->> 5 AS depth,
         CASE j.value ->> 6 WHEN 0 THEN 'ok' WHEN 1 THEN 'end' ELSE 'failed' END AS status,
         j.value ->> 7 AS duration_ns, j.value ->> 9 AS error_name, j.value ->> 10 AS error_message,
         j.value ->> 11 AS error_state, nullif(j.value -> 12, 'null') AS changes, j.value ->> 13 AS reason
  FROM runs r, json_each(r.steps) j JOIN states s ON s.id = j.value ->> 2
       LEFT JOIN states a ON a.id = j.value ->> 3;
CREATE VIEW IF NOT EXISTS steps AS
  SELECT id, parent, via, network, state, arc, event, attempt, depth, status, duration_ns, error_name,
         error_message, error_state, changes, reason FROM step_rows;
)sql";

constexpr const char* schema_sql = R"sql(
CREATE TABLE IF NOT EXISTS workflows (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL,
  version TEXT NOT NULL,
  file TEXT NOT NULL,
  scripts_hash TEXT NOT NULL,
  UNIQUE (name, version, file, scripts_hash)
);
CREATE TABLE IF NOT EXISTS states (
  id INTEGER PRIMARY KEY,
  workflow INTEGER NOT NULL REFERENCES workflows(id),
  number INTEGER NOT NULL,  -- the state's global id in its workflow version
  network TEXT NOT NULL,
  name TEXT NOT NULL,
  qualified TEXT NOT NULL,  -- network/name
  UNIQUE (workflow, number)
);
CREATE TABLE IF NOT EXISTS runs (
  id INTEGER PRIMARY KEY,
  run_id TEXT NOT NULL,
  workflow INTEGER NOT NULL REFERENCES workflows(id),
  position INTEGER,
  ok INTEGER NOT NULL,
  final_state TEXT NOT NULL,
  error_name TEXT,
  error_message TEXT,
  error_state TEXT,
  started_us INTEGER NOT NULL,
  duration_ns INTEGER NOT NULL,
  transitions INTEGER NOT NULL,
  level TEXT NOT NULL,
  input TEXT,
  output TEXT,
  steps TEXT,  -- levels steps and full: a JSON array, one array per step (see above)
  -- What the run's resource calls amounted to; NULL when it made none (or used no
  -- tokens): resources is {"NAME": {"type":, "calls":, "errors":, "latency_ms":, "health":}}
  -- (health only when not ok / closed at the run's end).
  prompt_tokens INTEGER,
  completion_tokens INTEGER,
  resources TEXT
);
)sql";

// Schema 2 -> 3: each run's step_data rows become its steps array, in seq order.
constexpr const char* migrate_2_to_3_sql = R"sql(
ALTER TABLE runs ADD COLUMN steps TEXT;
UPDATE runs SET steps = (
  SELECT json_group_array(json(step)) FROM (
    SELECT json_array(coalesce(d.parent, 0), d.via, d.state, d.arc, d.attempt, d.depth, d.status, d.duration_ns,
                      d.arcs, d.error_name, d.error_message, d.error_state, json(d.changes)) AS step
    FROM step_data d WHERE d.id BETWEEN runs.id << 20 AND (runs.id << 20) + 1048575 ORDER BY d.id))
  WHERE EXISTS (SELECT 1 FROM step_data d WHERE d.id BETWEEN runs.id << 20 AND (runs.id << 20) + 1048575);
DROP VIEW IF EXISTS step_rows;
DROP VIEW IF EXISTS steps;
DROP TABLE step_data;
)sql";

// Schema 3 -> 4: token usage and resource calls per run (NULL for the runs before).
constexpr const char* migrate_3_to_4_sql = R"sql(
ALTER TABLE runs ADD COLUMN prompt_tokens INTEGER;
ALTER TABLE runs ADD COLUMN completion_tokens INTEGER;
ALTER TABLE runs ADD COLUMN resources TEXT;
)sql";

/// One upgrade step: a database at version `from` becomes `from + 1` by running `sql`
/// (and then the views again, when the step rebuilt the tables behind them).
struct Migration {
    int from;
    const char* sql;
    bool views;
};
constexpr Migration migrations[] = {
    {2, migrate_2_to_3_sql, true},
    {3, migrate_3_to_4_sql, false},
};

}  // namespace

namespace {

/// What a database's header says: statenet's mark, and whether it has any schema yet.
struct Header {
    int application = 0;
    bool empty = false;
};

/// One statement, so one snapshot: read apart, another process could create the
/// schema between the two reads.
Header read_header(SQLite::Database& db) {
    SQLite::Statement q(db,
                        "SELECT (SELECT application_id FROM pragma_application_id), "
                        "(SELECT count(*) FROM sqlite_master)");
    q.executeStep();
    return {q.getColumn(0).getInt(), q.getColumn(1).getInt() == 0};
}

std::unique_ptr<SQLite::Database> open_once(const std::string& path, bool create, bool durability_full) {
    // One thread uses a connection at a time: SQLite's own mutexes are not needed. The
    // busy timeout is set at open, before anything below takes a lock.
    const int flags = SQLite::OPEN_READWRITE | SQLite::OPEN_NOMUTEX | (create ? SQLite::OPEN_CREATE : 0);
    auto db = std::make_unique<SQLite::Database>(path, flags, 5000);
    const auto not_history = [&] { return HistoryError(fmt::format("'{}' is not a statenet history database", path)); };
    Header header = read_header(*db);
    const bool fresh = header.application != application_id;
    if (fresh && !(create && header.empty && header.application == 0)) throw not_history();
    // A new database gets 64 KB pages: the writer appends rows, and each WAL frame is
    // a write(2) of one page, so big pages cut its system calls (and kernel time,
    // which takes CPU from the workers) by 16 compared with SQLite's 4 KB. (A no-op
    // once another process has written the file.)
    if (fresh) db->exec("PRAGMA page_size=65536");
    db->exec("PRAGMA journal_mode=WAL");
    db->exec(durability_full ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=NORMAL");
    if (fresh) {
        // Another process may be creating it at the same moment: the write lock decides
        // who does, and the header is read again under it.
        SQLite::Transaction create_schema(*db, SQLite::TransactionBehavior::IMMEDIATE);
        header = read_header(*db);
        if (header.application != application_id) {
            if (!header.empty) throw not_history();
            db->exec(schema_sql);
            db->exec(step_views_sql);
            db->exec(fmt::format("PRAGMA application_id={}; PRAGMA user_version={}", application_id, schema_version));
        }
        create_schema.commit();
    }
    int version = db->execAndGet("PRAGMA user_version").getInt();
    for (const Migration& m : migrations) {
        if (version != m.from) continue;
        // Upgraded in place, one step at a time, once: whoever gets the write lock first
        // does it.
        SQLite::Transaction upgrade(*db, SQLite::TransactionBehavior::IMMEDIATE);
        if (db->execAndGet("PRAGMA user_version").getInt() == m.from) {
            db->exec(m.sql);
            if (m.views) db->exec(step_views_sql);
            db->exec(fmt::format("PRAGMA user_version={}", m.from + 1));
        }
        upgrade.commit();
        version = m.from + 1;
    }
    if (version != schema_version)
        throw HistoryError(fmt::format("history database '{}' has schema version {}; this statenet reads version {}",
                                       path, version, schema_version));
    return db;
}

}  // namespace

std::unique_ptr<SQLite::Database> open_history_db(const std::string& path, bool create, bool durability_full) {
    std::error_code ec;
    if (!create && !std::filesystem::exists(path, ec))
        throw HistoryError(fmt::format("history database '{}' does not exist", path));
    // Several processes may share a history database and open it first at the same moment.
    try {
        return open_retrying_busy([&] { return open_once(path, create, durability_full); });
    } catch (const SQLite::Exception& e) {
        throw HistoryError(fmt::format("history database '{}': {}", path, e.what()));
    }
}

}  // namespace statenet::detail
