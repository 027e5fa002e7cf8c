// The `sqlite` resource: one SQLite connection and its record transaction (its Lua face: db_binding.hpp).
#pragma once

#include "resources/connection.hpp"
#include "resources/sqlite_values.hpp"

#include <statenet/value.hpp>

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

/// One SQLite connection, used by one runner at a time.
class SqliteConnection final : public Connection {
public:
    /// Opens the database: WAL journal, synchronous=NORMAL, the busy timeout.
    /// Throws std::runtime_error with a clear message.
    explicit SqliteConnection(const SqliteConfig& config);
    ~SqliteConnection() override;
    SqliteConnection(const SqliteConnection&) = delete;
    SqliteConnection& operator=(const SqliteConnection&) = delete;

    const std::string& name() const noexcept override { return config_.name; }
    std::int64_t exec(std::string_view sql, const Value::Array& params) override;
    Value query(std::string_view sql, const Value::Array& params) override;
    std::int64_t insert(std::string_view table, const Value& row) override;
    std::int64_t upsert(std::string_view table, const Value& row, std::string_view key) override;

    /// BEGIN IMMEDIATE: takes the write lock (waiting up to the busy timeout).
    void begin() override;
    void commit() override;
    void rollback() override;
    bool in_transaction() const noexcept override;
    void savepoint(std::string_view name) override;
    void release(std::string_view name) override;
    void rollback_to(std::string_view name) override;
    std::int64_t total_changes() const noexcept override;

    const SqliteConfig& config() const noexcept { return config_; }

private:
    struct Impl;
    SqliteConfig config_;
    std::unique_ptr<Impl> impl_;
};

}  // namespace statenet::detail
