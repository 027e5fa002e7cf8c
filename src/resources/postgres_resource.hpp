// The `postgres` resource: one libpq connection with the same face as a sqlite one.
//
// Caveats: the Lua calls (exec, query, insert, upsert) wait for the server through
// wait_for (exec/waiter.hpp), so a record in flight yields while its statement runs;
// transaction control (BEGIN, COMMIT, savepoints) and connecting block. A statement that
// fails inside a transaction aborts the transaction until the step's savepoint is rolled
// back, so an error caught with pcall leaves the rest of the step failing, and commit()
// of an aborted transaction throws rather than silently rolling back.
#pragma once

#include "resources/connection.hpp"
#include "resources/postgres_values.hpp"

#include <memory>
#include <string>

namespace statenet::detail {

struct PostgresConfig {
    std::string name;                 // the resource's name in the workflow
    std::string dsn;                  // libpq conninfo; may hold a password, never shown
    double statement_timeout_ms = 0;  // 0 = the server's default
};

class PostgresConnection final : public Connection {
public:
    /// Connects; throws std::runtime_error naming the resource (never the password).
    explicit PostgresConnection(PostgresConfig config);
    ~PostgresConnection() override;
    PostgresConnection(const PostgresConnection&) = delete;
    PostgresConnection& operator=(const PostgresConnection&) = delete;

    const std::string& name() const noexcept override { return config_.name; }
    /// One statement with parameters $1..$n; a string of several statements is refused.
    std::int64_t exec(std::string_view sql, const Value::Array& params) override;
    Value query(std::string_view sql, const Value::Array& params) override;
    /// Returns the number of rows inserted (PostgreSQL has no rowid: use
    /// `query("INSERT ... RETURNING id", ...)` for generated keys).
    std::int64_t insert(std::string_view table, const Value& row) override;
    std::int64_t upsert(std::string_view table, const Value& row, std::string_view key) override;

    /// BEGIN; a connection the server closed while it was idle reconnects once first.
    void begin() override;
    /// Throws when the transaction was aborted by an earlier error (it is rolled back).
    void commit() override;
    void rollback() override;
    /// True inside a transaction, an aborted one, or when the connection is broken.
    bool in_transaction() const noexcept override;
    void savepoint(std::string_view name) override;
    void release(std::string_view name) override;
    void rollback_to(std::string_view name) override;
    std::int64_t total_changes() const noexcept override { return total_changes_; }

private:
    struct Impl;
    PostgresConfig config_;
    std::unique_ptr<Impl> impl_;
    std::int64_t total_changes_ = 0;

    std::int64_t run(std::string_view sql, const Value::Array& params, Value* rows);
    PGresult* send_and_wait(const std::string& sql, const PgParams& bound);
    void command(const std::string& sql);
    void set_up_session();
};

}  // namespace statenet::detail
