// The park database's `parked` table: the runner's park store writes it, and the signal
// side claims a row (exactly once, across processes), resumes it and marks it resumed.
#pragma once

#include "exec/parking.hpp"
#include "model/model.hpp"

#include <statenet/history.hpp>

#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace SQLite {
class Database;
}

namespace statenet::detail {

/// Parks a workflow version's records in its park database (Model::park_db), one
/// committed transaction per record. Thread-safe.
class SqliteParkStore final : public ParkStore {
public:
    /// Opens (creating) the database; throws HistoryError.
    explicit SqliteParkStore(const Model& model);
    ~SqliteParkStore() override;
    void park(const ParkedRecord& record) override;

private:
    std::mutex mutex_;
    std::unique_ptr<SQLite::Database> db_;
    std::string workflow_, version_, file_, scripts_hash_, load_;
};

/// A parked row as resuming needs it: the record, the row as listed, and how the
/// workflow was loaded (`{"vars": {...}, "mode": "copy", "history": "steps"}`).
struct ParkedEntry {
    ParkedRecord record;
    ParkedRun info;
    std::string scripts_hash;
    Value load;
};

/// A park database opened to deliver signals.
class ParkClaims {
public:
    /// Opens an existing park (or history) database; throws HistoryError.
    explicit ParkClaims(const std::filesystem::path& db);
    ~ParkClaims();

    /// Takes the record waiting under `run_id` (the whole id, or a unique prefix) for
    /// `signal` (nullopt: its deadline passed; the record must be overdue by `now_us`)
    /// and marks it resuming, so no other claim gets it (one IMMEDIATE transaction: the
    /// claims of several processes follow one another). Throws SignalError saying why
    /// not; nothing changes then.
    ParkedEntry claim(std::string_view run_id, const std::optional<std::string>& signal, std::int64_t now_us);
    /// Run ids of the waiting records whose deadline is at or before `now_us`.
    std::vector<std::string> overdue(std::int64_t now_us);
    /// The claimed record went on (unless it parked again, in a state of its own).
    void finish(const std::string& run_id, const std::string& by, std::int64_t now_us);
    /// The claimed record could not go on: it waits again.
    void release(const std::string& run_id);

private:
    std::unique_ptr<SQLite::Database> db_;
};

/// The parked rows of `db`, oldest first (all, or those not resumed yet).
std::vector<ParkedRun> list_parked(SQLite::Database& db, bool all);

}  // namespace statenet::detail
