// PostgreSQL input: the rows of a query, one record each (column name -> value), fetched
// one row at a time (libpq's single-row mode), so a large result never sits in memory.
#include "io/record_source.hpp"
#include "resources/postgres_values.hpp"

#include <fmt/format.h>
#include <libpq-fe.h>

#include <stdexcept>

namespace statenet::detail {

namespace {

class PostgresSource final : public RecordSource {
public:
    PostgresSource(const std::string& dsn, const std::string& query, const Value::Array& params)
        : name_("postgres:" + redact_dsn(dsn)), owned_(PQconnectdb(dsn.c_str()), PQfinish), conn_(owned_.get()) {
        if (!conn_ || PQstatus(conn_) != CONNECTION_OK)
            throw std::invalid_argument(fmt::format("cannot open input '{}': {}", name_,
                                                    conn_ ? pg_message(PQerrorMessage(conn_)) : "out of memory"));
        pg_quiet_notices(conn_);
        // The extended protocol runs exactly one statement, so a query string cannot
        // smuggle in a second one.
        const PgParams bound(params);
        if (!PQsendQueryParams(conn_, query.c_str(), bound.count(), bound.types(), bound.values(), nullptr, nullptr,
                               0) ||
            !PQsetSingleRowMode(conn_))
            throw std::invalid_argument(fmt::format("'{}': query: {}", name_, pg_message(PQerrorMessage(conn_))));
        try {
            fetch();
        } catch (const std::runtime_error& e) {
            throw std::invalid_argument(e.what());
        }
    }
    ~PostgresSource() override { PQclear(row_); }
    PostgresSource(const PostgresSource&) = delete;
    PostgresSource& operator=(const PostgresSource&) = delete;

    bool next(RawRecord& record) override {
        if (!row_) return false;
        ++position_;
        record.line = record.end_line = record.end = position_;
        record.text.clear();
        record.error.reset();
        const int columns = PQnfields(row_);
        Value::Object row;
        row.reserve(static_cast<std::size_t>(columns));
        for (int c = 0; c < columns; ++c) row.emplace_back(PQfname(row_, c), pg_column_value(row_, 0, c));
        record.value = Value(std::move(row));
        fetch();
        return true;
    }

    void resume(std::uint64_t position, std::uint64_t line) override {
        (void)line;
        while (position_ < position) {
            if (!row_)
                throw std::runtime_error(
                    fmt::format("'{}': the query has fewer rows than the checkpoint's position", name_));
            ++position_;
            fetch();
        }
    }
    std::uint64_t progress_position() const noexcept override { return 0; }
    std::uint64_t progress_size() const noexcept override { return 0; }

private:
    // Holds the next row in row_, or leaves it null at the end of the result.
    void fetch() {
        PQclear(row_);
        row_ = nullptr;
        if (done_) return;
        PGresult* result = PQgetResult(conn_);
        if (result && PQresultStatus(result) == PGRES_SINGLE_TUPLE) {
            row_ = result;
            return;
        }
        done_ = true;
        std::string failure;
        const auto status = result ? PQresultStatus(result) : PGRES_TUPLES_OK;
        if (status != PGRES_TUPLES_OK && status != PGRES_COMMAND_OK) failure = pg_error(result, conn_);
        PQclear(result);
        while (PGresult* rest = PQgetResult(conn_)) PQclear(rest);
        if (!failure.empty()) throw std::runtime_error(fmt::format("'{}': query: {}", name_, failure));
    }

    std::string name_;
    std::unique_ptr<PGconn, void (*)(PGconn*)> owned_;
    PGconn* conn_;
    PGresult* row_ = nullptr;
    bool done_ = false;
    std::uint64_t position_ = 0;
};

}  // namespace

std::unique_ptr<RecordSource> make_postgres_source(const std::string& dsn, const std::string& query,
                                                   const Value::Array& params) {
    return std::make_unique<PostgresSource>(dsn, query, params);
}

}  // namespace statenet::detail
