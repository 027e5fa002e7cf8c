// Transactions: the SQLite connections a runner holds and how its records' writes are
// grouped into transactions (single, batch, manual; SPEC section 7).
#pragma once

#include "model/model.hpp"
#include "resources/pool.hpp"
#include "resources/staged_work.hpp"

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace statenet::detail {

/// One runner's held connections, by resource id.
///
/// - single: a connection is taken (BEGIN IMMEDIATE) when a record first needs it and
///   committed or rolled back at the record's end, then returned to the pool.
/// - batch: the transaction stays open across records; each record runs inside the
///   savepoint `statenet_record`, released when it succeeds and rolled back when it
///   fails, so a failed record never poisons the batch. The batch commits after
///   `batch_size` records, when another runner waits for the write lock, or on flush().
/// - manual: like single, but the record's work is committed only by ctx.commit();
///   what is left uncommitted at the record's end is rolled back and reported.
/// In every strategy each state runs inside the savepoint `statenet_step`.
///
/// Enlisted StagedWork (files) follows the same boundaries: a failed step or record
/// drops what it staged; what is staged lands when the SQL work commits (the record's
/// end, the batch's commit, ctx.commit()), after the connections have committed.
class Transactions {
public:
    /// `warn` receives the manual strategy's "uncommitted work rolled back" messages.
    Transactions(const Model& model, std::shared_ptr<ResourcePools> pools,
                 std::function<void(const std::string&)> warn);
    /// Commits an open batch (best effort: a failure goes to `warn`).
    ~Transactions();
    Transactions(const Transactions&) = delete;
    Transactions& operator=(const Transactions&) = delete;

    /// The connection for resource `id`, taken from the pool and begun when not held
    /// yet; `fresh` tells the caller to bind it into ctx.resources. Throws
    /// std::runtime_error when the database cannot be opened or locked.
    SqliteConnection& acquire(int id, bool& fresh);
    /// The held connection, or null.
    SqliteConnection* held(int id) const noexcept { return held_[static_cast<std::size_t>(id)].get(); }
    const std::vector<int>& held_ids() const noexcept { return held_ids_; }

    /// Makes `work` follow this runner's transactions from now on; it must outlive them.
    void enlist(StagedWork& work);
    /// Is anything held or enlisted (so each step needs a savepoint)?
    bool guards() const noexcept { return !held_ids_.empty() || !staged_.empty(); }

    /// Starts a record: in batch mode, opens the record savepoint on held connections.
    void begin_record();
    /// Opens the step savepoint on every held connection. Throws std::runtime_error.
    void begin_step();
    /// Releases the step savepoint, or rolls the step's writes back when it failed.
    void end_step(bool failed) noexcept;
    /// Ends a record: commits or keeps its work (batch) when `ok`, else rolls it back.
    /// Returns an error message when a commit fails (the record's work is then lost and
    /// the record must be reported failed). Connections no longer held are listed in
    /// `released` so the caller can unbind them.
    std::optional<std::string> end_record(bool ok, std::vector<int>& released);
    /// Commits an open batch now. Returns an error message on failure.
    std::optional<std::string> flush(std::vector<int>& released);

    /// ctx.commit(): commits the record's work so far on every held connection and
    /// starts a new transaction (manual strategy only; throws std::logic_error otherwise).
    void commit_now();
    /// ctx.rollback(): discards the record's uncommitted work.
    void rollback_now();
    /// Manual strategy: reports and rolls back the record's uncommitted work, keeping
    /// the connections (and a new transaction) for the engine's own writes.
    void discard_uncommitted();

private:
    using Strategy = TransactionConfig::Strategy;
    Strategy strategy_;
    std::int64_t batch_size_;
    std::shared_ptr<ResourcePools> pools_;
    std::function<void(const std::string&)> warn_;
    std::vector<std::unique_ptr<SqliteConnection>> held_;
    std::vector<int> held_ids_;
    std::vector<std::int64_t> changes_at_commit_;  // manual: total_changes at the last commit
    std::int64_t batch_records_ = 0;
    bool step_open_ = false;
    struct Enlisted {
        StagedWork* work;
        std::size_t record_mark = 0;  // batch: where the current record's work starts
        std::size_t step_mark = 0;
    };
    std::vector<Enlisted> staged_;

    void begin_locked(int id, SqliteConnection& connection);
    void warn_uncommitted();
    bool someone_waits() noexcept;
    /// Applies (or drops) every enlisted resource's staged work; the first failure wins.
    void finish_staged(bool commit, std::optional<std::string>& failure) noexcept;
    /// Commits (or rolls back) every held connection and returns them to the pool.
    std::optional<std::string> finish_all(bool commit, std::vector<int>& released) noexcept;
};

}  // namespace statenet::detail
