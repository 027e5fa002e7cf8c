// TreeStore: the supervision tree's rows, in memory and written through to SQLite.
#include "supervise/tree_store.hpp"

#include <SQLiteCpp/SQLiteCpp.h>

#include <fmt/format.h>

namespace statenet::detail {

namespace {

constexpr const char* tree_schema = R"sql(
CREATE TABLE IF NOT EXISTS statenet_children (
  parent TEXT NOT NULL,
  name TEXT NOT NULL,
  kind TEXT NOT NULL,
  child TEXT NOT NULL,
  entry TEXT NOT NULL,
  status TEXT NOT NULL,
  spec_version INTEGER NOT NULL,
  mapped TEXT NOT NULL DEFAULT '',
  note TEXT NOT NULL DEFAULT '',
  since_ms REAL NOT NULL DEFAULT 0,
  restarts TEXT NOT NULL DEFAULT '[]',
  PRIMARY KEY (parent, name)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS statenet_breakers (
  instance TEXT PRIMARY KEY,
  state TEXT NOT NULL,
  failures INTEGER NOT NULL,
  backoff_ms REAL NOT NULL,
  retry_at REAL NOT NULL,
  why TEXT NOT NULL
) WITHOUT ROWID;
)sql";

std::string child_key(const std::string& kind, const std::string& id) { return kind + '\n' + id; }

}  // namespace

TreeStore::TreeStore(const std::filesystem::path& db) {
    if (db.empty()) return;
    try {
        db_ = std::make_unique<SQLite::Database>(db.string(), SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
        db_->setBusyTimeout(5000);
        db_->exec(tree_schema);  // a store from before breakers were kept gets their table here
        load();
        load_breakers();
    } catch (const SQLite::Exception& e) {
        throw std::runtime_error(fmt::format("supervision tree in '{}': {}", db.string(), e.what()));
    }
}

TreeStore::~TreeStore() = default;

void TreeStore::load() {
    SQLite::Statement q(*db_,
                        "SELECT parent, name, kind, child, entry, status, spec_version, mapped, note, since_ms, "
                        "restarts FROM statenet_children");
    while (q.executeStep()) {
        ChildRow row;
        row.parent = q.getColumn(0).getString();
        row.name = q.getColumn(1).getString();
        row.kind = q.getColumn(2).getString();
        row.id = q.getColumn(3).getString();
        row.entry = Value::from_json(q.getColumn(4).getString());
        row.status = q.getColumn(5).getString();
        row.spec_version = q.getColumn(6).getInt64();
        row.mapped = q.getColumn(7).getString();
        row.note = q.getColumn(8).getString();
        row.since_ms = q.getColumn(9).getDouble();
        const Value restarts = Value::from_json(q.getColumn(10).getString());
        for (std::size_t i = 0; i < restarts.size(); ++i) row.restarts.push_back(restarts[i].as_number());
        by_child_[child_key(row.kind, row.id)] = {row.parent, row.name};
        count(row, 1);
        rows_.emplace(std::make_pair(row.parent, row.name), std::move(row));
    }
}

void TreeStore::count(const ChildRow& row, int delta) {
    const auto key = std::make_pair(row.kind, row.parent);
    if (delta > 0) {
        ++counts_[row.parent];
        ++kind_parents_[key];
        return;
    }
    if (--counts_[row.parent] == 0) counts_.erase(row.parent);
    if (--kind_parents_[key] == 0) kind_parents_.erase(key);
}

std::vector<std::string> TreeStore::parents(const std::string& kind) const {
    std::vector<std::string> out;
    for (auto it = kind_parents_.lower_bound({kind, std::string()});
         it != kind_parents_.end() && it->first.first == kind; ++it)
        out.push_back(it->first.second);
    return out;
}

void TreeStore::load_breakers() {
    SQLite::Statement q(*db_, "SELECT instance, state, failures, backoff_ms, retry_at, why FROM statenet_breakers");
    while (q.executeStep()) {
        HealthBreaker& b = breakers_[q.getColumn(0).getString()];
        b.state = HealthBreaker::state_named(q.getColumn(1).getString());
        b.failures = q.getColumn(2).getInt64();
        b.backoff_ms = q.getColumn(3).getDouble();
        b.retry_at = q.getColumn(4).getDouble();
        b.why = q.getColumn(5).getString();
    }
}

void TreeStore::save_breaker(const std::string& id) {
    if (!db_) return;
    const HealthBreaker& b = breakers_[id];
    SQLite::Statement s(*db_,
                        "INSERT OR REPLACE INTO statenet_breakers (instance, state, failures, backoff_ms, retry_at, "
                        "why) VALUES (?, ?, ?, ?, ?, ?)");
    s.bind(1, id);
    s.bind(2, b.name());
    s.bind(3, static_cast<std::int64_t>(b.failures));
    s.bind(4, b.backoff_ms);
    s.bind(5, b.retry_at);
    s.bind(6, b.why);
    s.exec();
}

void TreeStore::erase_breaker(const std::string& id) {
    if (breakers_.erase(id) == 0 || !db_) return;
    SQLite::Statement s(*db_, "DELETE FROM statenet_breakers WHERE instance = ?");
    s.bind(1, id);
    s.exec();
}

std::vector<ChildRow*> TreeStore::children(const std::string& parent) {
    std::vector<ChildRow*> out;
    for (auto it = rows_.lower_bound({parent, std::string()}); it != rows_.end() && it->first.first == parent; ++it)
        out.push_back(&it->second);
    return out;
}

ChildRow* TreeStore::find(const std::string& parent, const std::string& name) {
    auto it = rows_.find({parent, name});
    return it == rows_.end() ? nullptr : &it->second;
}

ChildRow* TreeStore::by_child(const std::string& kind, const std::string& id) {
    auto it = by_child_.find(child_key(kind, id));
    return it == by_child_.end() ? nullptr : find(it->second.first, it->second.second);
}

void TreeStore::save(const ChildRow& row) {
    if (db_) {
        SQLite::Statement s(*db_,
                            "INSERT OR REPLACE INTO statenet_children (parent, name, kind, child, entry, status, "
                            "spec_version, mapped, note, since_ms, restarts) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
        s.bind(1, row.parent);
        s.bind(2, row.name);
        s.bind(3, row.kind);
        s.bind(4, row.id);
        s.bind(5, row.entry.to_json());
        s.bind(6, row.status);
        s.bind(7, static_cast<std::int64_t>(row.spec_version));
        s.bind(8, row.mapped);
        s.bind(9, row.note);
        s.bind(10, row.since_ms);
        Value restarts = Value::array();
        for (double t : row.restarts) restarts.push_back(Value(t));
        s.bind(11, restarts.to_json());
        s.exec();
    }
    by_child_[child_key(row.kind, row.id)] = {row.parent, row.name};
    auto key = std::make_pair(row.parent, row.name);
    if (ChildRow* existing = find(row.parent, row.name); existing != &row) {
        if (existing) count(*existing, -1);
        count(row, 1);
        rows_.insert_or_assign(key, row);
    }
}

void TreeStore::erase(const std::string& parent, const std::string& name) {
    auto it = rows_.find({parent, name});
    if (it == rows_.end()) return;
    if (db_) {
        SQLite::Statement s(*db_, "DELETE FROM statenet_children WHERE parent = ? AND name = ?");
        s.bind(1, parent);
        s.bind(2, name);
        s.exec();
    }
    by_child_.erase(child_key(it->second.kind, it->second.id));
    count(it->second, -1);
    rows_.erase(it);
}

}  // namespace statenet::detail
