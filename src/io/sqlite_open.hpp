// Opening a SQLite file that other processes may be opening at the same moment.
#pragma once

#include <SQLiteCpp/Exception.h>

#include <chrono>
#include <thread>

namespace statenet::detail {

/// SQLITE_BUSY or SQLITE_LOCKED, from an extended result code too.
bool is_sqlite_busy(const SQLite::Exception& e) noexcept;

/// Runs `open` (which opens a connection and sets up its schema) until it does not fail
/// with "database is locked", at most 8 times with a growing pause: SQLite answers that
/// without waiting in a few places the busy timeout does not cover (changing the journal
/// mode while another connection opens the file, a read transaction that must become a
/// write one). Any other exception, or the last busy one, propagates.
template <class Open>
auto open_retrying_busy(Open&& open) {
    constexpr int attempts = 8;
    for (int attempt = 1;; ++attempt) {
        try {
            return open();
        } catch (const SQLite::Exception& e) {
            if (!is_sqlite_busy(e) || attempt == attempts) throw;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(10 * attempt));
    }
}

}  // namespace statenet::detail
