// SQLite input: the rows of a query, one record each (column name -> value), stepped one at a time.
#include "io/record_source.hpp"
#include "resources/sqlite_values.hpp"

#include <SQLiteCpp/SQLiteCpp.h>

#include <fmt/format.h>

#include <filesystem>
#include <stdexcept>

namespace statenet::detail {

namespace {

class SqliteSource final : public RecordSource {
public:
    SqliteSource(const std::string& database, const std::string& query, const Value::Array& params)
        : db_(open(database)), statement_(prepare(db_, database, query)), name_(database) {
        try {
            for (std::size_t i = 0; i < params.size(); ++i) bind_value(statement_, static_cast<int>(i) + 1, params[i]);
        } catch (const SQLite::Exception& e) {
            throw std::invalid_argument(fmt::format("'{}': query: {}", database, e.what()));
        }
    }

    bool next(RawRecord& record) override {
        if (!step()) return false;
        ++row_;
        record.line = record.end_line = record.end = row_;
        record.text.clear();
        record.error.reset();
        const int columns = statement_.getColumnCount();
        Value::Object row;
        row.reserve(static_cast<std::size_t>(columns));
        for (int i = 0; i < columns; ++i)
            row.emplace_back(statement_.getColumnName(i), column_value(statement_.getColumn(i)));
        record.value = Value(std::move(row));
        return true;
    }

    void resume(std::uint64_t position, std::uint64_t line) override {
        (void)line;
        while (row_ < position) {
            if (!step())
                throw std::runtime_error(
                    fmt::format("'{}': the query has fewer rows than the checkpoint's position", name_));
            ++row_;
        }
    }
    std::uint64_t progress_position() const noexcept override { return 0; }
    std::uint64_t progress_size() const noexcept override { return 0; }

private:
    static SQLite::Database open(const std::string& database) {
        if (!std::filesystem::exists(database))
            throw std::invalid_argument(fmt::format("cannot open input '{}': no such database", database));
        try {
            return SQLite::Database(database, SQLite::OPEN_READONLY);
        } catch (const SQLite::Exception& e) {
            throw std::invalid_argument(fmt::format("cannot open input '{}': {}", database, e.what()));
        }
    }
    static SQLite::Statement prepare(SQLite::Database& db, const std::string& database, const std::string& query) {
        try {
            return SQLite::Statement(db, query);
        } catch (const SQLite::Exception& e) {
            throw std::invalid_argument(fmt::format("'{}': query: {}", database, e.what()));
        }
    }
    bool step() {
        try {
            return statement_.executeStep();
        } catch (const SQLite::Exception& e) {
            throw std::runtime_error(fmt::format("'{}': query: {}", name_, e.what()));
        }
    }

    SQLite::Database db_;
    SQLite::Statement statement_;
    std::string name_;
    std::uint64_t row_ = 0;
};

}  // namespace

std::unique_ptr<RecordSource> make_sqlite_source(const std::string& database, const std::string& query,
                                                 const Value::Array& params) {
    return std::make_unique<SqliteSource>(database, query, params);
}

}  // namespace statenet::detail
