// HistoryWriter: the one background thread that stores a workflow's history rows in SQLite, in batches.
#pragma once

#include "history/recorder.hpp"
#include "history/run_channel.hpp"
#include "model/model.hpp"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace SQLite {
class Database;
class Statement;
}  // namespace SQLite

namespace statenet::detail {

class HistoryWriter final : public RunConsumer, public std::enable_shared_from_this<HistoryWriter> {
public:
    /// Each recorder queues its runs in its own RunChannel (bounded: a worker whose
    /// channel is full waits for the writer). The writer looks at the channels every
    /// busy_poll_ms while it finds runs there, else every idle_poll_ms; a worker wakes it
    /// only at RunChannel::wake_at queued runs, so a run costs its worker no system call
    /// and no lock.
    static constexpr int busy_poll_ms = 2;
    static constexpr int idle_poll_ms = 20;
    /// A batch is committed after this many rows or this long after its first row.
    static constexpr std::size_t batch_rows = 10000;
    static constexpr int batch_ms = 100;

    /// Opens (creating) the database, prunes it by max_runs/max_age and starts the
    /// writer thread. Throws HistoryError.
    HistoryWriter(const HistoryConfig& config, std::shared_ptr<const Model> model);
    /// Stores everything queued, then stops.
    ~HistoryWriter() override;
    HistoryWriter(const HistoryWriter&) = delete;
    HistoryWriter& operator=(const HistoryWriter&) = delete;

    /// A recorder for one runner (one thread at a time); its runs go to this writer
    /// through a channel of its own.
    std::unique_ptr<RunObserver> recorder();
    void wake(RunChannel& channel) override;
    bool wait_for_room(RunChannel& channel) override;
    /// What the row binders need besides the row.
    struct Binding {
        const Model* model;
        const std::vector<const State*>* states;
        const std::vector<std::int64_t>* state_rows;  // by global state id: its row in `states`
        std::int64_t workflow_id;
        const char* level;
    };

    /// Waits until every run submitted so far is committed; throws HistoryError when
    /// the writer failed (it then stops storing).
    void flush();

private:
    HistoryLevel level_;
    std::shared_ptr<const Model> model_;
    std::vector<const State*> states_;      // by global id
    std::vector<std::int64_t> state_rows_;  // by global id: its row id in the states table
    std::unique_ptr<SQLite::Database> db_;
    struct RunRow;
    struct Inserts;
    std::unique_ptr<Inserts> inserts_;  // after db_: destroyed first
    std::int64_t workflow_id_ = 0;
    std::int64_t next_run_id_ = 1;

    std::mutex mutex_;
    std::condition_variable wake_;      // the writer: work, a flush request or closing
    std::condition_variable progress_;  // submitters and flushers: room, commits, failure
    std::vector<std::shared_ptr<RunChannel>> channels_;
    bool flush_requested_ = false, closing_ = false;
    std::exception_ptr failure_;
    std::atomic<bool> failed_{false};  // failure_ is set: seen by workers without the lock
    std::thread thread_;

    // The writer thread's own: whether a transaction is open, its rows, when it is due.
    bool in_transaction_ = false;
    std::size_t rows_ = 0;
    std::chrono::steady_clock::time_point deadline_;

    void loop();
    /// Stops the writer: keeps `e` for flush() and rolls back the open transaction.
    void fail(const std::exception& e);
    /// Wakes the writer (a channel filled up, or a flush).
    void wake_writer();
    /// Whether a channel holds wake_at runs (under mutex_).
    bool work_waiting() const;
    /// Stores the `n` oldest runs waiting in `channel`, where they are, inside the open
    /// transaction (a row per run, its steps with it).
    void store(RunChannel& channel, std::size_t n);
    /// store() in the open transaction, beginning one when none is; a failure stops the
    /// writer (fail()).
    void store_in_transaction(RunChannel& channel, std::size_t n);
    Inserts& inserts();
    /// Gives the `n` oldest slots back to `channel`'s worker, and their extras emptied
    /// for reuse.
    static void release(RunChannel& channel, std::size_t n);
    static void bind_run(const Binding& b, SQLite::Statement& r, int first, const RunRow& row);
    static void bind_plain_run(const Binding& b, SQLite::Statement& r, int first, const RunRow& row);
    static void bind_used_run(const Binding& b, SQLite::Statement& r, int first, const RunRow& row);
    /// The run's steps as runs.steps stores them, into extras.steps_json.
    static void write_steps(const Binding& b, RunExtras& extras);
    /// The run's resource calls as runs.resources stores them, into extras.resources_json.
    static void write_resources(RunExtras& extras);
};

}  // namespace statenet::detail
