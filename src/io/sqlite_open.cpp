#include "io/sqlite_open.hpp"

#include <sqlite3.h>

namespace statenet::detail {

bool is_sqlite_busy(const SQLite::Exception& e) noexcept {
    const int code = e.getErrorCode() & 0xff;  // the primary code of an extended one
    return code == SQLITE_BUSY || code == SQLITE_LOCKED;
}

}  // namespace statenet::detail
