// HistoryWriter: the one background thread that stores a workflow's history rows in SQLite, in batches.
#pragma once

#include "history/adaptive_mutex.hpp"
#include "history/recorder.hpp"
#include "model/model.hpp"

#include <condition_variable>
#include <cstdint>
#include <exception>
#include <memory>
#include <mutex>
#include <thread>

namespace SQLite {
class Database;
class Statement;
}  // namespace SQLite

namespace statenet::detail {

class HistoryWriter : public std::enable_shared_from_this<HistoryWriter> {
public:
    /// Runs queued before the workers wait for the writer (backpressure bounds memory).
    static constexpr std::size_t queue_capacity = 16384;
    /// Submitting wakes the writer only at this many queued runs; otherwise it looks
    /// every poll_ms, so a run costs its worker no system call.
    static constexpr std::size_t wake_at = 2048;
    static constexpr int poll_ms = 20;
    /// A batch is committed after this many rows or this long after its first row.
    static constexpr std::size_t batch_rows = 10000;
    static constexpr int batch_ms = 100;

    /// Opens (creating) the database, prunes it by max_runs/max_age and starts the
    /// writer thread. Throws HistoryError.
    HistoryWriter(const HistoryConfig& config, std::shared_ptr<const Model> model);
    /// Stores everything queued, then stops.
    ~HistoryWriter();
    HistoryWriter(const HistoryWriter&) = delete;
    HistoryWriter& operator=(const HistoryWriter&) = delete;

    /// A recorder for one runner; its runs go to this writer.
    std::unique_ptr<RunObserver> recorder();
    /// Queues a finished run; waits only while the queue is full. Returns the emptied
    /// extras of a stored run, for the recorder to fill next.
    std::unique_ptr<RunExtras> submit(RunRecord&& record);
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

    AdaptiveMutex mutex_;
    std::condition_variable_any wake_;      // the writer: work, a flush request or closing
    std::condition_variable_any progress_;  // submitters and flushers: room, commits, failure
    std::vector<RunRecord> queue_;
    std::vector<std::unique_ptr<RunExtras>> spare_extras_;  // emptied by the writer, reused by recorders
    static constexpr std::size_t max_spare = 4096;
    std::uint64_t submitted_ = 0, committed_ = 0;
    bool flush_requested_ = false, closing_ = false;
    std::exception_ptr failure_;
    std::thread thread_;

    void loop();
    /// Stores `batch` inside the open transaction (a row per run, its steps with it);
    /// returns the rows written.
    std::size_t store(std::vector<RunRecord>& batch);
    Inserts& inserts();
    /// Empties the stored runs and keeps their extras for reuse.
    void recycle(std::vector<RunRecord>& batch);
    static void bind_run(const Binding& b, SQLite::Statement& r, int first, const RunRow& row);
    static void bind_plain_run(const Binding& b, SQLite::Statement& r, int first, const RunRow& row);
    static void bind_used_run(const Binding& b, SQLite::Statement& r, int first, const RunRow& row);
    /// The run's steps as runs.steps stores them, into extras.steps_json.
    static void write_steps(const Binding& b, RunExtras& extras);
    /// The run's resource calls as runs.resources stores them, into extras.resources_json.
    static void write_resources(RunExtras& extras);
};

}  // namespace statenet::detail
