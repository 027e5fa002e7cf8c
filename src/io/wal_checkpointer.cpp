// WalCheckpointer: the hook that takes over a connection's WAL checkpoints, and the thread that runs them.
#include "io/wal_checkpointer.hpp"

#include <sqlite3.h>

#include <system_error>

namespace statenet::detail {

WalCheckpointer::WalCheckpointer(SQLite::Database& db, int pages, int limit)
    : db_(db.getHandle()), pages_(pages), limit_(limit) {
    // The absolute path: the thread opens it later, perhaps after a chdir.
    const char* file = sqlite3_db_filename(db_, "main");
    file_ = file ? file : "";
    // A temporary database has no file another connection could open.
    failed_ = file_.empty();
    // The hook replaces SQLite's automatic checkpoint.
    sqlite3_wal_hook(db_, &WalCheckpointer::committed, this);
}

WalCheckpointer::~WalCheckpointer() {
    sqlite3_wal_hook(db_, nullptr, nullptr);
    {
        std::lock_guard lock(mutex_);
        stop_ = true;
    }
    wake_.notify_one();
    if (thread_.joinable()) thread_.join();
}

int WalCheckpointer::committed(void* self, sqlite3* db, const char*, int wal_pages) {
    static_cast<WalCheckpointer*>(self)->on_commit(db, wal_pages);
    return SQLITE_OK;
}

void WalCheckpointer::on_commit(sqlite3* db, int wal_pages) {
    if (wal_pages >= limit_ || (failed_ && wal_pages >= pages_)) {
        // Copy the rest here, and the next transaction starts the WAL over. Waiting for a
        // checkpoint of the thread's in flight cost 55-65 ms (its fsyncs while this
        // connection kept writing) against 5-8 ms for the rest copied here once it is
        // done: the thread starts no other one, and this waits only at twice the limit.
        std::unique_lock hold(checkpointing_, std::try_to_lock);
        if (!hold.owns_lock()) {
            if (wal_pages < 2 * limit_) {
                std::lock_guard lock(mutex_);
                restart_ = true;
                return;
            }
            hold.lock();
        }
        const int copied = checkpoint(db);
        std::lock_guard lock(mutex_);
        if (copied >= 0) copied_ = copied;
        restart_ = false;
        return;
    }
    std::unique_lock lock(mutex_);
    last_pages_ = wal_pages;
    restart_ = false;                      // (the WAL started over, or never reached the limit)
    if (wal_pages < copied_) copied_ = 0;  // the WAL started over
    if (busy_ || wanted_ || wal_pages - copied_ < pages_) return;
    wanted_ = true;
    if (thread_.joinable()) {
        lock.unlock();
        wake_.notify_one();
        return;
    }
    try {
        thread_ = std::thread([this] { run(); });
    } catch (const std::system_error&) {
        failed_ = true;  // no thread: this connection checkpoints in its commits
    }
}

void WalCheckpointer::run() {
    sqlite3* own = nullptr;
    // Reading the schema once attaches the connection to the WAL, which a checkpoint needs.
    if (sqlite3_open_v2(file_.c_str(), &own, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, nullptr) != SQLITE_OK ||
        sqlite3_exec(own, "SELECT count(*) FROM sqlite_master", nullptr, nullptr, nullptr) != SQLITE_OK) {
        sqlite3_close_v2(own);
        std::lock_guard lock(mutex_);
        failed_ = true;
        return;
    }
    std::unique_lock lock(mutex_);
    for (;;) {
        wake_.wait(lock, [&] { return wanted_ || stop_; });
        if (stop_) break;
        wanted_ = false;
        busy_ = true;
        lock.unlock();
        int copied;
        {
            std::lock_guard hold(checkpointing_);
            copied = checkpoint(own);
        }
        lock.lock();
        busy_ = false;
        if (copied >= 0) copied_ = copied;
        // Commits while it ran asked for nothing (busy_): see whether they should have.
        if (!restart_ && last_pages_ - copied_ >= pages_ && last_pages_ >= copied_) wanted_ = true;
    }
    lock.unlock();
    sqlite3_close_v2(own);
}

int WalCheckpointer::checkpoint(sqlite3* db) {
    int log = 0, copied = 0;
    return sqlite3_wal_checkpoint_v2(db, nullptr, SQLITE_CHECKPOINT_PASSIVE, &log, &copied) == SQLITE_OK ? copied : -1;
}

}  // namespace statenet::detail
