#include "io/sqlite_open.hpp"

#include <sqlite3.h>

namespace statenet::detail {

namespace {

// SQLite keeps memory statistics behind a global mutex taken on every allocation: ~8%
// of a keyed machine send. statenet never reads them, so they are off, set before
// SQLite initializes (when the host initialized it first, this does nothing).
const bool memstatus_off = [] { return sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0) == SQLITE_OK; }();

}  // namespace

bool is_sqlite_busy(const SQLite::Exception& e) noexcept {
    const int code = e.getErrorCode() & 0xff;  // the primary code of an extended one
    return code == SQLITE_BUSY || code == SQLITE_LOCKED;
}

}  // namespace statenet::detail
