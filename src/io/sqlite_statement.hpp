// A statement prepared once and run on a hot path (one per machine event): text bound
// without copying, no bindings cleared between uses.
#pragma once

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Exception.h>
#include <sqlite3.h>

#include <cstdint>
#include <string_view>

namespace statenet::detail {

/// Unlike SQLite::Statement, text is bound as the caller's bytes (SQLITE_STATIC: they
/// must live until the step) and bindings stay between uses, so every use binds every
/// parameter. Errors throw SQLite::Exception, as SQLiteCpp does.
class HotStatement {
public:
    HotStatement(SQLite::Database& db, std::string_view sql) : db_(db.getHandle()) {
        check(sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()), SQLITE_PREPARE_PERSISTENT, &stmt_,
                                 nullptr));
    }
    ~HotStatement() { sqlite3_finalize(stmt_); }
    HotStatement(const HotStatement&) = delete;
    HotStatement& operator=(const HotStatement&) = delete;

    void bind(int index, std::string_view text) {
        // An empty view may hold no pointer, which SQLite would bind as NULL.
        check(sqlite3_bind_text(stmt_, index, text.empty() ? "" : text.data(), static_cast<int>(text.size()),
                                SQLITE_STATIC));
    }
    void bind(int index, double value) { check(sqlite3_bind_double(stmt_, index, value)); }
    void bind(int index, std::int64_t value) { check(sqlite3_bind_int64(stmt_, index, value)); }
    void bind_null(int index) { check(sqlite3_bind_null(stmt_, index)); }

    /// One step: true when it produced a row. The statement must be reset (Use) after.
    bool step() {
        const int rc = sqlite3_step(stmt_);
        if (rc == SQLITE_ROW) return true;
        if (rc == SQLITE_DONE) return false;
        throw SQLite::Exception(db_, rc);
    }

    bool is_null(int column) const { return sqlite3_column_type(stmt_, column) == SQLITE_NULL; }
    std::string_view text(int column) const {
        const auto* bytes = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, column));
        return bytes ? std::string_view(bytes, static_cast<std::size_t>(sqlite3_column_bytes(stmt_, column)))
                     : std::string_view();
    }
    std::int64_t int64(int column) const { return sqlite3_column_int64(stmt_, column); }

    /// Resets the statement however its use ends (a failed step reports its error once).
    class Use {
    public:
        explicit Use(HotStatement& s) : s_(s) {}
        ~Use() { sqlite3_reset(s_.stmt_); }
        Use(const Use&) = delete;
        Use& operator=(const Use&) = delete;

    private:
        HotStatement& s_;
    };

private:
    void check(int rc) const {
        if (rc != SQLITE_OK) throw SQLite::Exception(db_, rc);
    }

    sqlite3* db_;
    sqlite3_stmt* stmt_ = nullptr;
};

}  // namespace statenet::detail
