// The `postgres` resource: libpq's extended query protocol (always bound, one statement
// per call), the record transaction and its savepoints.
#include "resources/postgres_resource.hpp"
#include "resources/postgres_values.hpp"
#include "resources/sqlite_values.hpp"

#include "exec/waiter.hpp"

#include <fmt/format.h>
#include <libpq-fe.h>
#include <poll.h>

#include <cstdlib>
#include <stdexcept>
#include <utility>

namespace statenet::detail {

namespace {

// Owns a PGresult.
struct OwnedResult {
    PGresult* result;
    explicit OwnedResult(PGresult* r) : result(r) {}
    ~OwnedResult() { PQclear(result); }
    OwnedResult(const OwnedResult&) = delete;
    OwnedResult& operator=(const OwnedResult&) = delete;
};

bool changes_rows(const PGresult* result) {
    const std::string_view status = PQcmdStatus(const_cast<PGresult*>(result));
    for (std::string_view verb : {"INSERT", "UPDATE", "DELETE", "MERGE"})
        if (status.starts_with(verb)) return true;
    return false;
}

}  // namespace

// Waits for the connection's socket to be readable and reads what arrived, so that
// PQisBusy can tell whether the answer is complete.
struct PostgresConnection::Impl final : Poller {
    PGconn* conn = nullptr;
    bool broken = false;  // PQconsumeInput failed: the answer is an error
    ~Impl() override { PQfinish(conn); }

    void poll(int timeout_ms) override {
        pollfd fd{PQsocket(conn), POLLIN, 0};
        if (fd.fd < 0 || ::poll(&fd, 1, timeout_ms) != 0) consume();
    }
    void consume() {
        if (!broken && !PQconsumeInput(conn)) broken = true;
    }
    bool answered() {
        consume();
        return broken || !PQisBusy(conn);
    }
};

PostgresConnection::PostgresConnection(PostgresConfig config)
    : config_(std::move(config)), impl_(std::make_unique<Impl>()) {
    impl_->conn = PQconnectdb(config_.dsn.c_str());
    if (!impl_->conn) throw std::runtime_error(config_.name + ": out of memory connecting to PostgreSQL");
    if (PQstatus(impl_->conn) != CONNECTION_OK)
        throw std::runtime_error(
            fmt::format("{}: cannot connect to PostgreSQL: {}", config_.name, pg_message(PQerrorMessage(impl_->conn))));
    pg_quiet_notices(impl_->conn);
    set_up_session();
}

void PostgresConnection::set_up_session() {
    if (config_.statement_timeout_ms > 0)
        command(fmt::format("SET statement_timeout = {}", static_cast<long long>(config_.statement_timeout_ms)));
}

PostgresConnection::~PostgresConnection() = default;

// Sends the statement, then waits for its answer through wait_for (a record in flight
// yields meanwhile) and returns its result: the first error when the server sent one
// (a statement can end in several results), else the last.
PGresult* PostgresConnection::send_and_wait(const std::string& sql, const PgParams& bound) {
    PGconn* conn = impl_->conn;
    // The connection stays in blocking mode: sending (small) waits for the socket, only
    // the answer is waited for with other records running.
    if (!PQsendQueryParams(conn, sql.c_str(), bound.count(), bound.types(), bound.values(), nullptr, nullptr, 0))
        throw std::runtime_error(config_.name + ": " + pg_message(PQerrorMessage(conn)));
    impl_->broken = false;
    wait_for([this] { return impl_->answered(); }, *impl_);
    const auto failed = [](const PGresult* r) {
        const auto status = PQresultStatus(r);
        return status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK;
    };
    PGresult* kept = nullptr;  // null (a broken connection): PQresultStatus says PGRES_FATAL_ERROR
    while (PGresult* next = PQgetResult(conn)) {
        if (kept && failed(kept)) {
            PQclear(next);
            continue;
        }
        PQclear(kept);
        kept = next;
    }
    return kept;
}

// Runs one statement with bound parameters; fills `rows` when given. Returns the rows
// an INSERT/UPDATE/DELETE changed, else 0.
std::int64_t PostgresConnection::run(std::string_view sql, const Value::Array& params, Value* rows) {
    const PgParams bound(params);
    OwnedResult result(send_and_wait(std::string(sql), bound));
    const auto status = PQresultStatus(result.result);
    if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
        std::string message = pg_error(result.result, impl_->conn);
        if (message.empty()) message = pg_message(PQerrorMessage(impl_->conn));
        if (message.find("cannot insert multiple commands") != std::string::npos)
            message = "one statement per call: a string of several statements is refused (" + message + ")";
        throw std::runtime_error(config_.name + ": " + message);
    }
    if (rows) *rows = pg_rows(result.result);
    if (!changes_rows(result.result)) return 0;
    const std::int64_t changed = std::atoll(PQcmdTuples(result.result));
    total_changes_ += changed;
    return changed;
}

// A fixed command of the engine's own (transaction control), never with user input.
void PostgresConnection::command(const std::string& sql) {
    OwnedResult result(PQexec(impl_->conn, sql.c_str()));
    if (PQresultStatus(result.result) != PGRES_COMMAND_OK)
        throw std::runtime_error(fmt::format("{}: {}: {}", config_.name, sql, pg_error(result.result, impl_->conn)));
}

std::int64_t PostgresConnection::exec(std::string_view sql, const Value::Array& params) {
    return run(sql, params, nullptr);
}

Value PostgresConnection::query(std::string_view sql, const Value::Array& params) {
    Value rows = Value::array();
    run(sql, params, &rows);
    return rows;
}

namespace {

struct InsertParts {
    std::string columns;       // "a","b"
    std::string placeholders;  // $1,$2
    Value::Array params;
};

InsertParts insert_parts(const std::string& name, std::string_view table, const Value& row) {
    if (!is_identifier(table)) throw std::runtime_error(name + ": invalid table name '" + std::string(table) + "'");
    if (!row.is_object() || row.as_object().empty())
        throw std::runtime_error(name + ": row must be a non-empty object");
    InsertParts parts;
    for (const auto& [field, value] : row.as_object()) {
        if (!is_identifier(field)) throw std::runtime_error(name + ": invalid column name '" + field + "'");
        if (!parts.params.empty()) {
            parts.columns += ',';
            parts.placeholders += ',';
        }
        parts.params.push_back(value);
        parts.columns += quote_identifier(field);
        parts.placeholders += fmt::format("${}", parts.params.size());
    }
    return parts;
}

}  // namespace

std::int64_t PostgresConnection::insert(std::string_view table, const Value& row) {
    const InsertParts parts = insert_parts(config_.name, table, row);
    return run(
        fmt::format("INSERT INTO {} ({}) VALUES ({})", quote_identifier(table), parts.columns, parts.placeholders),
        parts.params, nullptr);
}

std::int64_t PostgresConnection::upsert(std::string_view table, const Value& row, std::string_view key) {
    const InsertParts parts = insert_parts(config_.name, table, row);
    if (!is_identifier(key)) throw std::runtime_error(config_.name + ": invalid key column '" + std::string(key) + "'");
    if (!row.find(key))
        throw std::runtime_error(config_.name + ": key '" + std::string(key) + "' is not a field of the row");
    std::string updates;
    for (const auto& member : row.as_object()) {
        if (member.first == key) continue;
        if (!updates.empty()) updates += ',';
        updates += quote_identifier(member.first) + "=EXCLUDED." + quote_identifier(member.first);
    }
    return run(fmt::format("INSERT INTO {} ({}) VALUES ({}) ON CONFLICT ({}) DO {}", quote_identifier(table),
                           parts.columns, parts.placeholders, quote_identifier(key),
                           updates.empty() ? std::string("NOTHING") : "UPDATE SET " + updates),
               parts.params, nullptr);
}

void PostgresConnection::begin() {
    try {
        command("BEGIN");
    } catch (const std::runtime_error&) {
        // A pooled connection the server dropped while it sat idle (a restart, an idle
        // timeout) shows only now; nothing of a record is on it yet, so reconnect once.
        if (PQstatus(impl_->conn) != CONNECTION_BAD) throw;
        PQreset(impl_->conn);
        if (PQstatus(impl_->conn) != CONNECTION_OK)
            throw std::runtime_error(fmt::format("{}: cannot reconnect to PostgreSQL: {}", config_.name,
                                                 pg_message(PQerrorMessage(impl_->conn))));
        set_up_session();
        command("BEGIN");
    }
}

void PostgresConnection::commit() {
    // COMMIT of an aborted transaction "succeeds" as a ROLLBACK: report it as the failure it is.
    if (PQtransactionStatus(impl_->conn) == PQTRANS_INERROR) {
        command("ROLLBACK");
        throw std::runtime_error(config_.name +
                                 ": the transaction was aborted by an earlier failed statement and rolled back");
    }
    command("COMMIT");
}

void PostgresConnection::rollback() { command("ROLLBACK"); }

bool PostgresConnection::in_transaction() const noexcept { return PQtransactionStatus(impl_->conn) != PQTRANS_IDLE; }

void PostgresConnection::savepoint(std::string_view name) { command("SAVEPOINT " + std::string(name)); }

void PostgresConnection::release(std::string_view name) { command("RELEASE SAVEPOINT " + std::string(name)); }

void PostgresConnection::rollback_to(std::string_view name) {
    command("ROLLBACK TO SAVEPOINT " + std::string(name));
    command("RELEASE SAVEPOINT " + std::string(name));
}

}  // namespace statenet::detail
