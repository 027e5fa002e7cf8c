// The `sqlite` resource: one SQLite connection, its record transaction, and its Lua face.
#pragma once

#include "lua/convert.hpp"
#include "resources/sqlite_values.hpp"

#include <statenet/value.hpp>

#include <lua.hpp>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace statenet::detail {

struct SqliteConfig {
    std::string name;  // the resource's name in the workflow
    std::string path;  // database file (resolved), or ":memory:"
    int pool = 4;      // connections shared by a workflow's workers
    double busy_timeout_ms = 5000;
};

/// One connection, used by one runner at a time. Parameters are always bound, never
/// spliced into SQL; table and column names are checked identifiers, quoted.
class SqliteConnection {
public:
    /// Opens the database: WAL journal, synchronous=NORMAL, the busy timeout.
    /// Throws std::runtime_error with a clear message.
    explicit SqliteConnection(const SqliteConfig& config);
    ~SqliteConnection();
    SqliteConnection(const SqliteConnection&) = delete;
    SqliteConnection& operator=(const SqliteConnection&) = delete;

    /// Runs one statement; returns the number of rows it changed.
    std::int64_t exec(std::string_view sql, const Value::Array& params);
    /// Runs a query; returns an array of row objects (column name -> value).
    Value query(std::string_view sql, const Value::Array& params);
    /// INSERT of an object's fields; returns the new rowid.
    std::int64_t insert(std::string_view table, const Value& row);
    /// INSERT ... ON CONFLICT(key) DO UPDATE of the other fields; returns rows changed.
    std::int64_t upsert(std::string_view table, const Value& row, std::string_view key);

    /// The record's transaction.
    void begin();
    void commit();
    void rollback();
    bool in_transaction() const noexcept;
    /// Named savepoints: one around each record in a batch transaction, one around each
    /// state, so a failed record or step rolls back alone. `name` is a fixed identifier.
    void savepoint(std::string_view name);
    void release(std::string_view name);
    /// Rolls back to the savepoint and releases it.
    void rollback_to(std::string_view name);
    /// Rows changed by INSERT/UPDATE/DELETE on this connection since it opened.
    std::int64_t total_changes() const noexcept;

    const SqliteConfig& config() const noexcept { return config_; }

private:
    struct Impl;
    SqliteConfig config_;
    std::unique_ptr<Impl> impl_;
};

/// Pushes a Lua table with exec/query/insert/upsert bound to `connection` (callable as
/// `db.exec(sql, ...)` or `db:exec(sql, ...)`). Errors raise
/// `{ name = "ResourceError", message = "<resource>: ..." }`.
void push_sqlite_binding(lua_State* L, SqliteConnection* connection, const ConvertRefs& refs);

}  // namespace statenet::detail
