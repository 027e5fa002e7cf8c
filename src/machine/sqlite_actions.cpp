// The durable store's actions table (see sqlite_actions.hpp).
#include "machine/sqlite_actions.hpp"

namespace statenet::detail {

namespace {

// At most one open action per instance and name: the partial unique index makes a
// second start of the same action a no-op (INSERT OR IGNORE).
constexpr const char* actions_schema = R"sql(
CREATE TABLE IF NOT EXISTS statenet_actions (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  instance TEXT NOT NULL,
  name TEXT NOT NULL,
  args TEXT NOT NULL,
  started_ms REAL NOT NULL,
  deadline_ms REAL NOT NULL,
  done INTEGER NOT NULL DEFAULT 0,
  outcome TEXT
);
CREATE UNIQUE INDEX IF NOT EXISTS statenet_actions_open ON statenet_actions(instance, name) WHERE done = 0;
CREATE INDEX IF NOT EXISTS statenet_actions_deadline ON statenet_actions(deadline_ms) WHERE done = 0;
)sql";

}  // namespace

void create_actions_schema(SQLite::Database& db) { db.exec(actions_schema); }

SqliteActions::SqliteActions(SQLite::Database& db)
    : db_(db),
      start_(std::make_unique<SQLite::Statement>(
          db,
          "INSERT OR IGNORE INTO statenet_actions (instance, name, args, started_ms, deadline_ms) "
          "VALUES (?, ?, ?, ?, ?)")),
      close_(std::make_unique<SQLite::Statement>(
          db, "UPDATE statenet_actions SET done = 1, outcome = ? WHERE seq = ? AND done = 0")) {}

std::optional<std::int64_t> SqliteActions::start(const OpenAction& a, double now_ms) {
    SQLite::Statement& s = *start_;
    s.reset();
    s.clearBindings();
    s.bind(1, a.instance);
    s.bind(2, a.name);
    s.bind(3, a.args_json);
    s.bind(4, now_ms);
    s.bind(5, a.deadline_ms);
    const int inserted = s.exec();
    s.reset();
    if (inserted == 0) return std::nullopt;
    return db_.getLastInsertRowid();
}

bool SqliteActions::close(std::int64_t seq, std::string_view outcome) {
    SQLite::Statement& s = *close_;
    s.reset();
    s.clearBindings();
    s.bind(1, std::string(outcome));
    s.bind(2, seq);
    const int closed = s.exec();
    s.reset();
    return closed > 0;
}

std::vector<OpenAction> SqliteActions::open(double due_at) {
    SQLite::Statement q(db_, due_at < 0 ? "SELECT seq, instance, name, args, deadline_ms FROM statenet_actions "
                                          "WHERE done = 0 ORDER BY seq"
                                        : "SELECT seq, instance, name, args, deadline_ms FROM statenet_actions "
                                          "WHERE done = 0 AND deadline_ms <= ? ORDER BY deadline_ms, seq");
    if (due_at >= 0) q.bind(1, due_at);
    std::vector<OpenAction> out;
    while (q.executeStep())
        out.push_back({q.getColumn(0).getInt64(), q.getColumn(1).getString(), q.getColumn(2).getString(),
                       q.getColumn(3).getString(), q.getColumn(4).getDouble()});
    return out;
}

void SqliteActions::renew(std::int64_t seq, double deadline_ms) {
    SQLite::Statement q(db_, "UPDATE statenet_actions SET deadline_ms = ? WHERE seq = ? AND done = 0");
    q.bind(1, deadline_ms);
    q.bind(2, seq);
    q.exec();
}

std::optional<double> SqliteActions::next_deadline() {
    SQLite::Statement q(db_, "SELECT min(deadline_ms) FROM statenet_actions WHERE done = 0");
    if (!q.executeStep() || q.getColumn(0).isNull()) return std::nullopt;
    return q.getColumn(0).getDouble();
}

void SqliteActions::prune() { db_.exec("DELETE FROM statenet_actions WHERE done = 1"); }

}  // namespace statenet::detail
