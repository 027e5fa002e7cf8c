// Connection: what every database resource (sqlite, postgres) offers a runner — the Lua
// API's four calls, the record transaction and its savepoints. Not thread-safe: one
// runner uses a connection at a time.
#pragma once

#include <statenet/value.hpp>

#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>

namespace statenet::detail {

/// Thrown by ResourcePools::acquire when no connection came free within the resource's
/// `acquire_timeout_ms`; the record fails with the error `ResourceTimeout`.
class ResourceTimeout : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

/// Parameters are always bound, never spliced into SQL; table and column names are
/// checked identifiers, quoted. Every call throws std::runtime_error whose message
/// starts with the resource's name.
class Connection {
public:
    virtual ~Connection() = default;

    /// The resource's name in the workflow (or the stream endpoint it serves).
    virtual const std::string& name() const noexcept = 0;

    /// Runs one statement; returns the number of rows it changed.
    virtual std::int64_t exec(std::string_view sql, const Value::Array& params) = 0;
    /// Runs a query; returns an array of row objects (column name -> value).
    virtual Value query(std::string_view sql, const Value::Array& params) = 0;
    /// INSERT of an object's fields; returns the new rowid (SQLite) or the rows inserted.
    virtual std::int64_t insert(std::string_view table, const Value& row) = 0;
    /// INSERT ... ON CONFLICT(key) DO UPDATE of the other fields; returns rows changed.
    virtual std::int64_t upsert(std::string_view table, const Value& row, std::string_view key) = 0;

    /// The record's transaction.
    virtual void begin() = 0;
    virtual void commit() = 0;
    virtual void rollback() = 0;
    virtual bool in_transaction() const noexcept = 0;
    /// Named savepoints: one around each record in a batch transaction, one around each
    /// state, so a failed record or step rolls back alone. `name` is a fixed identifier.
    virtual void savepoint(std::string_view name) = 0;
    virtual void release(std::string_view name) = 0;
    /// Rolls back to the savepoint and releases it.
    virtual void rollback_to(std::string_view name) = 0;
    /// Rows changed by INSERT/UPDATE/DELETE on this connection since it opened.
    virtual std::int64_t total_changes() const noexcept = 0;
};

}  // namespace statenet::detail
