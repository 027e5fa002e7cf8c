// The park database's `parked` table: parking records, claiming one for a signal exactly
// once (a conditional UPDATE is the claim, so two processes cannot both win), listing them.
#include "history/park_store.hpp"

#include "history/schema.hpp"

#include <SQLiteCpp/SQLiteCpp.h>
#include <fmt/format.h>

#include <stdexcept>

namespace statenet {

Value ParkedRun::to_value() const {
    Value v = Value::object({{"run_id", run_id},
                             {"workflow", workflow},
                             {"version", version},
                             {"file", file},
                             {"state", state},
                             {"signal", signal},
                             {"parked", format_history_time(parked_us)},
                             {"status", status}});
    v.set("deadline", deadline_us ? Value(format_history_time(*deadline_us)) : Value());
    if (resumed_us) {
        v.set("resumed", format_history_time(*resumed_us));
        v.set("resumed_by", resumed_by);
    }
    return v;
}

}  // namespace statenet

namespace statenet::detail {

namespace {

constexpr const char* parked_columns =
    "run_id, workflow, version, file, state, signal, deadline_us, parked_us, status, resumed_us, resumed_by, "
    "scripts_hash, load, data, path, transitions, position";

ParkedRun read_info(SQLite::Statement& q) {
    ParkedRun p;
    p.run_id = q.getColumn(0).getString();
    p.workflow = q.getColumn(1).getString();
    p.version = q.getColumn(2).getString();
    p.file = q.getColumn(3).getString();
    p.state = q.getColumn(4).getString();
    p.signal = q.getColumn(5).getString();
    if (!q.getColumn(6).isNull()) p.deadline_us = q.getColumn(6).getInt64();
    p.parked_us = q.getColumn(7).getInt64();
    p.status = q.getColumn(8).getString();
    if (!q.getColumn(9).isNull()) p.resumed_us = q.getColumn(9).getInt64();
    p.resumed_by = q.getColumn(10).getString();
    return p;
}

ParkedEntry read_entry(SQLite::Statement& q) {
    ParkedEntry e;
    e.info = read_info(q);
    e.scripts_hash = q.getColumn(11).getString();
    e.load = Value::from_json(q.getColumn(12).getString());
    ParkedRecord& r = e.record;
    r.run_id = e.info.run_id;
    r.state = e.info.state;
    r.signal = e.info.signal;
    r.deadline_us = e.info.deadline_us;
    r.data = q.getColumn(13).getString();
    const Value path = Value::from_json(q.getColumn(14).getString());
    for (const Value& state : path.as_array()) r.path.push_back(state.as_string());
    r.transitions = q.getColumn(15).getInt64();
    if (!q.getColumn(16).isNull()) r.position = q.getColumn(16).getInt64();
    return e;
}

std::string load_text(const Model& model) {
    return Value::object({{"vars", model.vars},
                          {"params", model.params},
                          {"profile", model.profile},
                          {"mode", model.mode == DataMode::direct ? "direct" : "copy"},
                          {"history", std::string(history_level_name(model.history.level))}})
        .to_json();
}

std::string when(std::optional<std::int64_t> us) { return us ? format_history_time(*us) : "?"; }

}  // namespace

SqliteParkStore::SqliteParkStore(const Model& model)
    : db_(open_history_db(model.park_db, true, model.history.durability_full)),
      workflow_(model.name),
      version_(model.version),
      file_(std::filesystem::absolute(model.file).lexically_normal().string()),
      scripts_hash_(model.scripts_hash),
      load_(load_text(model)) {}

SqliteParkStore::~SqliteParkStore() = default;

void SqliteParkStore::park(const ParkedRecord& r) {
    Value path = Value::array();
    for (const auto& state : r.path) path.push_back(state);
    std::lock_guard lock(mutex_);
    // A resumed record that parks again (in a later wait state) takes its row back.
    SQLite::Statement q(*db_,
                        "INSERT INTO parked (run_id, workflow, version, file, scripts_hash, load, state, signal, "
                        "deadline_us, parked_us, data, path, transitions, position, status) "
                        "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, 'waiting') "
                        "ON CONFLICT (run_id) DO UPDATE SET workflow = excluded.workflow, version = excluded.version, "
                        "file = excluded.file, scripts_hash = excluded.scripts_hash, load = excluded.load, "
                        "state = excluded.state, signal = excluded.signal, deadline_us = excluded.deadline_us, "
                        "parked_us = excluded.parked_us, data = excluded.data, path = excluded.path, "
                        "transitions = excluded.transitions, position = excluded.position, status = 'waiting', "
                        "resumed_us = NULL, resumed_by = NULL");
    q.bind(1, r.run_id);
    q.bind(2, workflow_);
    q.bind(3, version_);
    q.bind(4, file_);
    q.bind(5, scripts_hash_);
    q.bind(6, load_);
    q.bind(7, r.state);
    q.bind(8, r.signal);
    if (r.deadline_us) q.bind(9, *r.deadline_us);
    q.bind(10, unix_now_us());
    q.bind(11, r.data);
    q.bind(12, path.to_json());
    q.bind(13, r.transitions);
    if (r.position) q.bind(14, *r.position);
    q.exec();  // autocommit: durable when it returns
}

ParkClaims::ParkClaims(const std::filesystem::path& db) : db_(open_history_db(db.string(), false)) {}

ParkClaims::~ParkClaims() = default;

ParkedEntry ParkClaims::claim(std::string_view run_id, const std::optional<std::string>& signal, std::int64_t now_us) {
    // The write lock first (waiting out other writers): a read that became a write later
    // would fail at once when another process wrote in between.
    SQLite::Transaction claim(*db_, SQLite::TransactionBehavior::IMMEDIATE);
    SQLite::Statement find(*db_, fmt::format("SELECT {} FROM parked WHERE substr(run_id, 1, length(?1)) = ?1 "
                                             "ORDER BY run_id <> ?1, run_id LIMIT 2",
                                             parked_columns));
    find.bind(1, std::string(run_id));
    if (run_id.empty() || !find.executeStep())
        throw SignalError(fmt::format("no record is parked under run id '{}' in {}", run_id, db_->getFilename()));
    ParkedEntry entry = read_entry(find);
    if (entry.info.run_id != run_id && find.executeStep())
        throw SignalError(fmt::format("run id '{}' is ambiguous: several parked records start with it", run_id));
    const ParkedRun& p = entry.info;
    if (p.status == "resumed")
        throw SignalError(
            fmt::format("run {} was already resumed (by {} at {})", p.run_id, p.resumed_by, when(p.resumed_us)));
    if (p.status == "resuming")
        throw SignalError(
            fmt::format("run {} is being resumed by another signal (since {})", p.run_id, when(p.resumed_us)));
    if (signal && *signal != p.signal)
        throw SignalError(
            fmt::format("run {} waits in state {} for signal '{}', not '{}'", p.run_id, p.state, p.signal, *signal));
    if (!signal && (!p.deadline_us || *p.deadline_us > now_us))
        throw SignalError(fmt::format("run {} is not overdue (deadline {})", p.run_id, when(p.deadline_us)));
    find.reset();
    // Under the write lock, the row is as read: it becomes ours.
    SQLite::Statement take(*db_,
                           "UPDATE parked SET status = 'resuming', resumed_us = ?2, resumed_by = ?3 "
                           "WHERE run_id = ?1 AND status = 'waiting' AND parked_us = ?4");
    take.bind(1, p.run_id);
    take.bind(2, now_us);
    take.bind(3, signal ? *signal : "SignalTimeout");
    take.bind(4, p.parked_us);
    if (take.exec() != 1) throw std::logic_error("statenet: a parked row changed under the write lock");
    claim.commit();
    entry.info.status = "resuming";
    return entry;
}

std::vector<std::string> ParkClaims::overdue(std::int64_t now_us) {
    SQLite::Statement q(
        *db_, "SELECT run_id FROM parked WHERE status = 'waiting' AND deadline_us <= ?1 ORDER BY deadline_us");
    q.bind(1, now_us);
    std::vector<std::string> ids;
    while (q.executeStep()) ids.push_back(q.getColumn(0).getString());
    return ids;
}

void ParkClaims::finish(const std::string& run_id, const std::string& by, std::int64_t now_us) {
    SQLite::Statement q(*db_,
                        "UPDATE parked SET status = 'resumed', resumed_us = ?2, resumed_by = ?3 "
                        "WHERE run_id = ?1 AND status = 'resuming'");
    q.bind(1, run_id);
    q.bind(2, now_us);
    q.bind(3, by);
    q.exec();
}

void ParkClaims::release(const std::string& run_id) {
    SQLite::Statement q(*db_,
                        "UPDATE parked SET status = 'waiting', resumed_us = NULL, resumed_by = NULL "
                        "WHERE run_id = ?1 AND status = 'resuming'");
    q.bind(1, run_id);
    q.exec();
}

std::vector<ParkedRun> list_parked(SQLite::Database& db, bool all) {
    SQLite::Statement q(db, fmt::format("SELECT {} FROM parked {} ORDER BY parked_us, run_id", parked_columns,
                                        all ? "" : "WHERE status <> 'resumed'"));
    std::vector<ParkedRun> rows;
    while (q.executeStep()) rows.push_back(read_info(q));
    return rows;
}

}  // namespace statenet::detail
