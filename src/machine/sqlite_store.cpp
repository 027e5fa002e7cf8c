// The durable store: instances, idempotency keys and the audit log in one SQLite database.
#include "io/sqlite_open.hpp"
#include "io/sqlite_statement.hpp"
#include "io/wal_checkpointer.hpp"
#include "machine/sqlite_actions.hpp"
#include "machine/sqlite_outbox.hpp"
#include "machine/store.hpp"

#include <SQLiteCpp/SQLiteCpp.h>

#include <fmt/format.h>

#include <algorithm>
#include <unordered_map>

namespace statenet::detail {

namespace {

constexpr const char* schema = R"sql(
CREATE TABLE IF NOT EXISTS statenet_instances (
  id TEXT PRIMARY KEY,
  network TEXT NOT NULL,
  state TEXT NOT NULL,
  data TEXT NOT NULL,
  version INTEGER NOT NULL,
  completed INTEGER NOT NULL,
  since_ms REAL NOT NULL,
  due_ms REAL,
  previous TEXT,
  stack TEXT
);
CREATE INDEX IF NOT EXISTS statenet_instances_due ON statenet_instances(due_ms) WHERE due_ms IS NOT NULL;
CREATE INDEX IF NOT EXISTS statenet_instances_idle ON statenet_instances(since_ms) WHERE completed = 0;
CREATE INDEX IF NOT EXISTS statenet_instances_state ON statenet_instances(network, state);
CREATE TABLE IF NOT EXISTS statenet_keys (
  instance TEXT NOT NULL,
  key TEXT NOT NULL,
  status TEXT NOT NULL,
  event TEXT NOT NULL,
  from_state TEXT NOT NULL,
  to_state TEXT NOT NULL,
  completed INTEGER NOT NULL,
  reason TEXT NOT NULL,
  error_name TEXT,
  error_message TEXT,
  error_state TEXT,
  time_ms REAL NOT NULL DEFAULT 0,
  PRIMARY KEY (key, instance)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS statenet_audit (
  seq INTEGER PRIMARY KEY,
  instance TEXT NOT NULL,
  from_state TEXT NOT NULL,
  to_state TEXT NOT NULL,
  event TEXT NOT NULL,
  key TEXT NOT NULL,
  time_ms REAL NOT NULL,
  outcome TEXT NOT NULL,
  reason TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS statenet_audit_instance ON statenet_audit(instance, seq);
)sql";

SendStatus status_of(std::string_view text) { return text == "applied" ? SendStatus::applied : SendStatus::rejected; }

/// An instance write held until its transaction commits.
struct Pending {
    InstanceRow row;
    std::optional<Value> data;  // nullopt: the data is unchanged
    bool created;
};

/// Lets string-keyed maps be searched with a string_view.
struct Hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
};

class SqliteStore final : public Store {
public:
    SqliteStore(const std::filesystem::path& file, bool full_sync) try
        : db_(file.string(), SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE | SQLite::OPEN_NOMUTEX) {
        // NOMUTEX: Machines serializes every use of the connection itself.
        db_.setBusyTimeout(5000);
        // Another process may be opening (and creating) the same store at this moment.
        open_retrying_busy([&] {
            db_.exec("PRAGMA journal_mode=WAL");
            // The write lock decides who creates the tables.
            SQLite::Transaction create(db_, SQLite::TransactionBehavior::IMMEDIATE);
            db_.exec(schema);
            create_outbox_schema(db_);
            create_actions_schema(db_);
            create.commit();
            return true;
        });
        db_.exec(full_sync ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=NORMAL");
        // The keys and audit indexes grow with every event: a larger page cache keeps
        // their hot pages in memory (the default 2 MB makes each insert read pages back).
        db_.exec("PRAGMA cache_size=-65536");
        // Checkpoints run on a thread of their own (see WalCheckpointer): 1,000 pages, as
        // SQLite's automatic ones; the WAL starts over by 16,000 pages (64 MB): each time,
        // this connection copies the rest (a few ms of fsyncs).
        checkpointer_ = std::make_unique<WalCheckpointer>(db_, 1000, 16000);
        find_ = prepare(
            "SELECT network, state, version, completed, since_ms, due_ms, previous, stack FROM statenet_instances "
            "WHERE id = ?");
        data_ = prepare("SELECT data FROM statenet_instances WHERE id = ?");
        insert_ = prepare(
            "INSERT INTO statenet_instances (id, network, state, version, completed, since_ms, due_ms, data, previous, "
            "stack) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
        update_ = prepare(
            "UPDATE statenet_instances SET network = ?2, state = ?3, version = ?4, completed = ?5, "
            "since_ms = ?6, due_ms = ?7, data = coalesce(?8, data), previous = ?9, stack = ?10 WHERE id = ?1");
        find_key_ = std::make_unique<HotStatement>(
            db_,
            "SELECT status, event, from_state, to_state, completed, reason, error_name, error_message, "
            "error_state FROM statenet_keys WHERE instance = ? AND key = ?");
        save_key_ = std::make_unique<HotStatement>(
            db_,
            "INSERT INTO statenet_keys (instance, key, status, event, from_state, to_state, completed, reason, "
            "error_name, error_message, error_state, time_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
        outbox_ = std::make_unique<SqliteOutbox>(db_);
        actions_ = std::make_unique<SqliteActions>(db_);
        audit_ = std::make_unique<HotStatement>(
            db_,
            "INSERT INTO statenet_audit (instance, from_state, to_state, event, key, time_ms, outcome, reason) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?)");
    } catch (const SQLite::Exception& e) {
        throw std::runtime_error(fmt::format("machine store '{}': {}", file.string(), e.what()));
    }

    bool durable() const noexcept override { return true; }

    void atomically(const std::function<void()>& work) override {
        // IMMEDIATE takes the write lock first, so the idempotency check and the write
        // that follows it cannot interleave with another process doing the same.
        db_.exec("BEGIN IMMEDIATE");
        try {
            // Rows cached by an earlier transaction are current unless another
            // connection committed since (data_version ignores this connection's commits).
            const std::int64_t version = db_.execAndGet("PRAGMA data_version").getInt64();
            if (version != data_version_ || rows_.size() > max_cached_rows) rows_.clear();
            data_version_ = version;
            in_transaction_ = true;
            work();
            in_transaction_ = false;
            flush();
            db_.exec("COMMIT");
        } catch (...) {
            in_transaction_ = false;
            pending_.clear();
            rows_.clear();  // it may hold rows this transaction wrote
            try {
                db_.exec("ROLLBACK");
            } catch (...) {
                // The original error explains the failure better.
            }
            throw;
        }
    }

    void use_model(const Model*, const Model& model, std::vector<std::string>* orphaned) override {
        model_ = &model;
        ids_.clear();
        rows_.clear();
        names_.assign(static_cast<std::size_t>(model.state_count), {});
        for (const auto& net : model.networks)
            for (const auto& s : net.states) {
                ids_[s.qualified] = s.id;
                names_[static_cast<std::size_t>(s.id)] = {net.name, s.name};
            }
        if (!orphaned) return;
        SQLite::Statement q(db_, "SELECT id, network || '/' || state, stack FROM statenet_instances ORDER BY id");
        while (q.executeStep())
            if (!ids_.contains(q.getColumn(1).getString()) ||
                (!q.getColumn(2).isNull() && !stack_problem(model, q.getColumn(2).getString()).empty()))
                orphaned->push_back(q.getColumn(0).getString());
    }

    bool find(std::string_view id, InstanceRow& row, std::string* data_json) override {
        // Outside a transaction another connection may write at any time: read the row.
        if (auto it = in_transaction_ ? rows_.find(id) : rows_.end(); it != rows_.end()) {
            row = it->second;
            if (data_json) *data_json = data_json_of(id);
            return true;
        }
        Use q(*find_);
        bind_text(*find_, 1, id);
        if (!find_->executeStep()) return false;
        read_row(*find_, 0, row);
        if (data_json) *data_json = data_json_of(id);
        rows_.insert_or_assign(std::string(id), row);
        return true;
    }

    std::string data_json(std::string_view id) override { return data_json_of(id); }

    // Writes are held until the transaction commits, so that an instance that moves
    // several times in one batch (send_many) is written once.
    void save(std::string_view id, const InstanceRow& row, const Value* data, bool created) override {
        rows_.insert_or_assign(std::string(id), row);
        auto [it, fresh] = pending_.try_emplace(std::string(id), Pending{row, std::nullopt, created});
        if (!fresh) {
            it->second.row = row;
            it->second.created = it->second.created || created;
        }
        if (data) it->second.data = *data;
        if (!in_transaction_) flush();
    }

    void flush() {
        for (const auto& [id, p] : pending_) write(id, p);
        pending_.clear();
    }

    void write(const std::string& id, const Pending& p) {
        const InstanceRow& row = p.row;
        SQLite::Statement& s = p.created ? *insert_ : *update_;
        Use q(s);
        s.bind(1, id);
        const auto& [network, state] = names_[static_cast<std::size_t>(row.state)];
        s.bind(2, network);
        s.bind(3, state);
        s.bind(4, static_cast<std::int64_t>(row.version));
        s.bind(5, row.completed ? 1 : 0);
        s.bind(6, row.since_ms);
        if (row.due_ms >= 0 && !row.completed) s.bind(7, row.due_ms);
        else s.bind(7);
        if (p.data) s.bind(8, p.data->to_json());
        else s.bind(8);
        if (row.previous >= 0) {
            const auto& [previous_network, previous_state] = names_[static_cast<std::size_t>(row.previous)];
            s.bind(9, previous_network + "/" + previous_state);
        } else {
            s.bind(9);
        }
        if (!row.stack.empty()) s.bind(10, row.stack.str());
        else s.bind(10);
        s.exec();
    }

    bool erase(std::string_view id, int& handle) override {
        handle = -1;
        rows_.erase(std::string(id));
        pending_.erase(std::string(id));
        SQLite::Statement keys(db_, "DELETE FROM statenet_keys WHERE instance = ?");
        bind_text(keys, 1, id);
        keys.exec();
        SQLite::Statement q(db_, "DELETE FROM statenet_instances WHERE id = ?");
        bind_text(q, 1, id);
        return q.exec() > 0;
    }

    std::optional<KeyedOutcome> find_key(std::string_view id, std::string_view key) override {
        HotStatement& s = *find_key_;
        HotStatement::Use use(s);
        s.bind(1, id);
        s.bind(2, key);
        if (!s.step()) return std::nullopt;
        KeyedOutcome out;
        out.instance = id;
        out.key = key;
        out.status = status_of(s.text(0));
        out.event = s.text(1);
        out.from = s.text(2);
        out.to = s.text(3);
        out.completed = s.int64(4) != 0;
        out.reason = s.text(5);
        if (!s.is_null(6))
            out.error = ErrorInfo{std::string(s.text(6)), std::string(s.text(7)), std::string(s.text(8))};
        return out;
    }

    void save_key(const KeyedOutcome& o, double time_ms) override {
        HotStatement& s = *save_key_;
        HotStatement::Use use(s);
        s.bind(1, o.instance);
        s.bind(2, o.key);
        s.bind(3, to_string(o.status));
        s.bind(4, o.event);
        s.bind(5, o.from);
        s.bind(6, o.to);
        s.bind(7, std::int64_t{o.completed ? 1 : 0});
        s.bind(8, o.reason);
        for (int i = 9; i <= 11; ++i) s.bind_null(i);
        if (o.error) {
            s.bind(9, o.error->name);
            s.bind(10, o.error->message);
            s.bind(11, o.error->state);
        }
        s.bind(12, time_ms);
        s.step();
    }

    std::int64_t append_outbox(const OutboxEntry& entry) override { return outbox_->append(entry); }
    std::vector<OutboxMessage> outbox(const OutboxOptions& options) override { return outbox_->messages(options); }
    std::size_t ack(const std::vector<std::int64_t>& seqs) override { return outbox_->ack(seqs); }
    std::vector<PendingSend> pending_sends(std::size_t limit) override { return outbox_->pending_sends(limit); }
    void mark_sent(std::int64_t seq, std::string_view error) override { outbox_->mark_sent(seq, error); }

    std::optional<std::int64_t> start_action(const OpenAction& action, double now_ms) override {
        return actions_->start(action, now_ms);
    }
    bool close_action(std::int64_t seq, std::string_view outcome) override { return actions_->close(seq, outcome); }
    std::vector<OpenAction> open_actions(double due_at) override { return actions_->open(due_at); }
    void renew_action(std::int64_t seq, double deadline_ms) override { actions_->renew(seq, deadline_ms); }
    std::optional<double> next_action_deadline() override { return actions_->next_deadline(); }

    PruneReport prune(const Retention& retention, double now_ms,
                      std::vector<std::pair<std::string, int>>& removed) override {
        rows_.clear();
        actions_->prune();
        return outbox_->prune(retention, now_ms, removed);
    }

    void append_audit(AuditEntry e) override {
        HotStatement& s = *audit_;
        HotStatement::Use use(s);
        s.bind(1, e.instance);
        s.bind(2, e.from);
        s.bind(3, e.to);
        s.bind(4, e.event);
        s.bind(5, e.key);
        s.bind(6, e.time_ms);
        s.bind(7, e.outcome);
        s.bind(8, e.reason);
        s.step();
    }

    std::vector<AuditEntry> audit(std::string_view id, std::size_t limit) override {
        std::string sql =
            "SELECT seq, instance, from_state, to_state, event, key, time_ms, outcome, reason "
            "FROM statenet_audit";
        if (!id.empty()) sql += " WHERE instance = ?1";
        sql += " ORDER BY seq DESC";
        if (limit > 0) sql += fmt::format(" LIMIT {}", limit);
        SQLite::Statement q(db_, sql);
        if (!id.empty()) bind_text(q, 1, id);
        std::vector<AuditEntry> rows;
        while (q.executeStep())
            rows.push_back({q.getColumn(0).getInt64(), q.getColumn(1).getString(), q.getColumn(2).getString(),
                            q.getColumn(3).getString(), q.getColumn(4).getString(), q.getColumn(5).getString(),
                            q.getColumn(6).getDouble(), q.getColumn(7).getString(), q.getColumn(8).getString()});
        std::reverse(rows.begin(), rows.end());
        return rows;
    }

    void each(const std::function<void(const std::string&, const InstanceRow&, const std::string&)>& visit) override {
        SQLite::Statement q(db_, "SELECT id FROM statenet_instances ORDER BY id");
        std::vector<std::string> ids;
        while (q.executeStep()) ids.push_back(q.getColumn(0).getString());
        InstanceRow row;
        std::string data;
        for (const auto& id : ids)
            if (find(id, row, &data)) visit(id, row, data);
    }

    void rows(const std::vector<int>& states,
              const std::function<void(const std::string&, const InstanceRow&)>& visit) override {
        constexpr const char* columns =
            "SELECT network, state, version, completed, since_ms, due_ms, previous, stack, id FROM statenet_instances";
        std::vector<std::pair<std::string, InstanceRow>> found;
        auto read = [&](SQLite::Statement& q) {
            while (q.executeStep()) {
                InstanceRow row;
                read_row(q, 0, row);
                found.emplace_back(q.getColumn(8).getString(), std::move(row));
            }
        };
        if (states.empty()) {
            SQLite::Statement q(db_, std::string(columns) + " ORDER BY id");
            read(q);
        } else {
            // One look-up per state through statenet_instances_state.
            SQLite::Statement q(db_, std::string(columns) + " WHERE network = ? AND state = ?");
            for (int state : states) {
                const auto& [network, name] = names_[static_cast<std::size_t>(state)];
                q.reset();
                q.bind(1, network);
                q.bind(2, name);
                read(q);
            }
            std::sort(found.begin(), found.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
        }
        for (const auto& [id, row] : found) visit(id, row);
    }

    std::vector<std::string> due(double now_ms) override {
        return ids(
            "SELECT id FROM statenet_instances WHERE due_ms IS NOT NULL AND due_ms <= ?1 AND completed = 0 "
            "ORDER BY due_ms, id",
            now_ms);
    }

    MachineCensus census(double now_ms, const std::function<std::string(const InstanceRow&)>&) override {
        MachineCensus out;
        SQLite::Statement states(db_, "SELECT network || '/' || state, count(*) FROM statenet_instances GROUP BY 1");
        while (states.executeStep())
            out.by_state[states.getColumn(0).getString()] = static_cast<std::size_t>(states.getColumn(1).getInt64());
        SQLite::Statement due(db_,
                              "SELECT count(*) FROM statenet_instances WHERE due_ms IS NOT NULL AND due_ms <= ? AND "
                              "completed = 0");
        due.bind(1, now_ms);
        if (due.executeStep()) out.timers_due = static_cast<std::size_t>(due.getColumn(0).getInt64());
        return out;
    }

    std::optional<double> next_due() override {
        SQLite::Statement q(db_,
                            "SELECT min(due_ms) FROM statenet_instances WHERE due_ms IS NOT NULL AND completed = 0");
        if (!q.executeStep() || q.getColumn(0).isNull()) return std::nullopt;
        return q.getColumn(0).getDouble();
    }

    std::vector<std::string> idle(double before_ms) override {
        // `+id`: ordering by the primary key would make SQLite walk the whole table in id
        // order; the idle index finds the few idle instances, which are then sorted.
        return ids("SELECT id FROM statenet_instances WHERE completed = 0 AND since_ms < ?1 ORDER BY +id", before_ms);
    }

private:
    /// Resets a persistent statement however its use ends.
    class Use {
    public:
        explicit Use(SQLite::Statement& s) : s_(s) {}
        ~Use() {
            try {
                s_.reset();
                s_.clearBindings();
            } catch (...) {
                // A failed step already reported its error; reset reports it again.
            }
        }
        Use(const Use&) = delete;
        Use& operator=(const Use&) = delete;

    private:
        SQLite::Statement& s_;
    };

    /// An instance row from columns network, state, version, completed, since_ms,
    /// due_ms, previous, stack (from `first` on).
    void read_row(SQLite::Statement& q, int first, InstanceRow& row) const {
        std::string name = q.getColumn(first).getString() + "/" + q.getColumn(first + 1).getString();
        auto it = ids_.find(name);
        row.state = it == ids_.end() ? -1 : it->second;
        row.orphan_state = it == ids_.end() ? name : std::string();
        row.version = q.getColumn(first + 2).getInt64();
        row.completed = q.getColumn(first + 3).getInt() != 0;
        row.since_ms = q.getColumn(first + 4).getDouble();
        row.due_ms = q.getColumn(first + 5).isNull() ? -1 : q.getColumn(first + 5).getDouble();
        auto previous = q.getColumn(first + 6).isNull() ? ids_.end() : ids_.find(q.getColumn(first + 6).getString());
        row.previous = previous == ids_.end() ? -1 : previous->second;
        row.stack.assign(q.getColumn(first + 7).isNull() ? std::string() : q.getColumn(first + 7).getString());
        // A push stack the loaded workflow cannot return through orphans the instance.
        if (!row.stack.empty() && row.state >= 0 && model_ && !stack_problem(*model_, row.stack).empty()) {
            row.orphan_state = std::move(name);
            row.state = -1;
        }
    }

    std::string data_json_of(std::string_view id) {
        if (auto it = pending_.find(id); it != pending_.end() && it->second.data) return it->second.data->to_json();
        Use q(*data_);
        bind_text(*data_, 1, id);
        return data_->executeStep() ? data_->getColumn(0).getString() : std::string();
    }

    std::unique_ptr<SQLite::Statement> prepare(const char* sql) {
        return std::make_unique<SQLite::Statement>(db_, sql);
    }

    static void bind_text(SQLite::Statement& s, int index, std::string_view text) {
        s.bind(index, std::string(text));  // (the pointer overload binds a blob)
    }

    std::vector<std::string> ids(const char* sql, double at) {
        SQLite::Statement q(db_, sql);
        q.bind(1, at);
        std::vector<std::string> out;
        while (q.executeStep()) out.push_back(q.getColumn(0).getString());
        return out;
    }

    SQLite::Database db_;
    std::unique_ptr<WalCheckpointer> checkpointer_;  // before the statements: db_ outlives both
    std::unique_ptr<SQLite::Statement> find_, data_, insert_, update_;
    std::unique_ptr<HotStatement> find_key_, save_key_, audit_;
    std::unique_ptr<SqliteOutbox> outbox_;
    std::unique_ptr<SqliteActions> actions_;
    /// Instance rows as this connection last read or wrote them (see atomically).
    static constexpr std::size_t max_cached_rows = 100000;
    std::unordered_map<std::string, InstanceRow, Hash, std::equal_to<>> rows_;
    std::int64_t data_version_ = -1;
    std::unordered_map<std::string, Pending, Hash, std::equal_to<>> pending_;
    bool in_transaction_ = false;
    const Model* model_ = nullptr;                            // the one use_model named
    std::unordered_map<std::string, int> ids_;                // `network/state` -> state id
    std::vector<std::pair<std::string, std::string>> names_;  // state id -> network, state
};

}  // namespace

std::unique_ptr<Store> open_sqlite_store(const std::filesystem::path& file, bool full_sync, bool create) {
    std::error_code ec;
    if (!create && !std::filesystem::exists(file, ec))
        throw std::runtime_error(fmt::format("machine store '{}' does not exist", file.string()));
    return std::make_unique<SqliteStore>(file, full_sync);
}

}  // namespace statenet::detail
