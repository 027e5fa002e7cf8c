// Checkpoints a WAL-mode SQLite database from a thread of its own.
#pragma once

#include <SQLiteCpp/Database.h>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>

struct sqlite3;

namespace statenet::detail {

/// Takes over the WAL checkpoints of connection `db`, so that its commits do not wait
/// for the checkpoint's writes and fsyncs (SQLite's automatic checkpoint runs in the
/// commit that crosses 1,000 pages: about a quarter of a keyed machine send's time).
/// Once `pages` frames have been committed since the last checkpoint, a thread with a
/// connection of its own copies them back (a passive checkpoint: it never waits for the
/// writer). A writer that never pauses would grow the WAL without end (SQLite restarts it
/// only when a transaction begins with every frame copied), so once the WAL holds
/// `limit` pages the committing connection checkpoints the rest itself as soon as the
/// thread is idle (which starts no other checkpoint meanwhile; at twice `limit` the
/// connection waits for it), and the next transaction starts the WAL over. The thread
/// starts with the first checkpoint: a short-lived process never has one.
class WalCheckpointer {
public:
    WalCheckpointer(SQLite::Database& db, int pages, int limit);
    ~WalCheckpointer();
    WalCheckpointer(const WalCheckpointer&) = delete;
    WalCheckpointer& operator=(const WalCheckpointer&) = delete;

private:
    static int committed(void* self, sqlite3* db, const char* schema, int wal_pages);
    void on_commit(sqlite3* db, int wal_pages);
    void run();
    /// One passive checkpoint on `db`; returns the WAL frames it has copied back so far.
    static int checkpoint(sqlite3* db);

    sqlite3* db_;
    std::string file_;
    const int pages_, limit_;
    std::thread thread_;
    std::mutex mutex_;  // guards what follows up to checkpointing_
    std::condition_variable wake_;
    bool wanted_ = false, busy_ = false, stop_ = false;
    bool restart_ = false;      // the WAL is at the limit: the committing connection copies the rest
    int last_pages_ = 0;        // the WAL's frames after the last commit
    int copied_ = 0;            // of them, copied back by the last checkpoint
    std::mutex checkpointing_;  // held for each checkpoint, by either side
    /// No thread (it could not start or open the file): commits checkpoint as SQLite's own do.
    std::atomic<bool> failed_ = false;
};

}  // namespace statenet::detail
