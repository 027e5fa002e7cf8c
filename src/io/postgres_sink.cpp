// PostgreSQL sink: emitted records as rows of a table, inserted or upserted by key,
// committed in transactions of N records together with the stream's checkpoint row.
#include "io/record_sink.hpp"
#include "resources/postgres_resource.hpp"
#include "resources/postgres_values.hpp"
#include "resources/sqlite_values.hpp"

#include <fmt/format.h>

#include <set>
#include <stdexcept>

namespace statenet::detail {

namespace {

constexpr const char* checkpoint_table = "statenet_checkpoints";
constexpr const char* row_savepoint = "statenet_row";

// The column type a new table or column gets from the first value seen in it.
const char* column_type(const Value& value) {
    switch (value.type()) {
    case Value::Type::boolean: return "boolean";
    case Value::Type::integer: return "bigint";
    case Value::Type::number: return "double precision";
    case Value::Type::array:
    case Value::Type::object: return "jsonb";
    case Value::Type::null:
    case Value::Type::string: break;
    }
    return "text";
}

class PostgresSink final : public RecordSink {
public:
    PostgresSink(const Sink& sink, const SinkSetup& setup)
        : table_(sink.table),
          key_(sink.key),
          where_("postgres:" + redact_dsn(sink.path)),
          resume_(setup.resume),
          connection_(connect(sink.path, where_)) {
        if (!is_identifier(table_))
            throw std::invalid_argument(fmt::format("invalid PostgreSQL table name '{}'", table_));
        if (!key_.empty() && !is_identifier(key_))
            throw std::invalid_argument(fmt::format("invalid PostgreSQL key column '{}'", key_));
        try {
            connection_.begin();
            read_columns();
            if (!key_.empty() && !columns_.empty())
                connection_.exec(fmt::format("CREATE UNIQUE INDEX IF NOT EXISTS {} ON {} ({})",
                                             quote_identifier("statenet_" + table_ + "_" + key_),
                                             quote_identifier(table_), quote_identifier(key_)),
                                 {});
            if (resume_) load_checkpoint(setup);
        } catch (const std::runtime_error& e) {
            throw std::invalid_argument(e.what());
        }
    }

    void write(Value&& data) override {
        if (!data.is_object() || data.as_object().empty())
            throw RecordRefused("SinkError", "only non-empty objects can be written as PostgreSQL rows");
        if (!key_.empty() && !data.find(key_))
            throw RecordRefused("MissingField",
                                fmt::format("the record has no key field '{}' for table '{}'", key_, table_));
        for (const auto& member : data.as_object())
            if (!is_identifier(member.first))
                throw RecordRefused("SinkError",
                                    fmt::format("field '{}' cannot be a PostgreSQL column name", member.first));
        // A failed statement aborts a PostgreSQL transaction: the savepoint keeps the
        // rows already written when one record is refused.
        connection_.savepoint(row_savepoint);
        try {
            add_columns(data);
            if (key_.empty()) connection_.insert(table_, data);
            else connection_.upsert(table_, data, key_);
        } catch (const std::runtime_error& e) {
            connection_.rollback_to(row_savepoint);
            columns_ = committed_columns_;
            throw RecordRefused("SinkError", e.what());
        }
        connection_.release(row_savepoint);
        committed_columns_ = columns_;
    }

    void commit(Checkpoint& checkpoint) override {
        store(checkpoint);
        connection_.commit();
        connection_.begin();
    }

    void close(Checkpoint& checkpoint) override {
        store(checkpoint);
        connection_.commit();
    }

private:
    static PostgresConnection connect(const std::string& dsn, const std::string& where) {
        try {
            return PostgresConnection(PostgresConfig{fmt::format("output '{}'", where), dsn, 0});
        } catch (const std::runtime_error& e) {
            throw std::invalid_argument(e.what());
        }
    }

    void read_columns() {
        const Value rows = connection_.query(
            "SELECT column_name::text AS name FROM information_schema.columns "
            "WHERE table_schema = current_schema() AND table_name = $1",
            {Value(table_)});
        for (const auto& row : rows.as_array()) columns_.insert(row["name"].as_string());
        committed_columns_ = columns_;
    }

    /// Creates the table from the first record, and adds a column for each new field;
    /// a column's type comes from its first value.
    void add_columns(const Value& data) {
        if (columns_.empty()) {
            std::string columns;
            for (const auto& [field, value] : data.as_object()) {
                if (!columns.empty()) columns += ", ";
                columns += quote_identifier(field) + " " + column_type(value);
                if (field == key_) columns += " PRIMARY KEY";
                columns_.insert(field);
            }
            connection_.exec(fmt::format("CREATE TABLE {} ({})", quote_identifier(table_), columns), {});
            return;
        }
        for (const auto& [field, value] : data.as_object()) {
            if (columns_.count(field)) continue;
            connection_.exec(fmt::format("ALTER TABLE {} ADD COLUMN {} {}", quote_identifier(table_),
                                         quote_identifier(field), column_type(value)),
                             {});
            columns_.insert(field);
        }
    }

    void load_checkpoint(const SinkSetup& setup) {
        connection_.exec(
            fmt::format("CREATE TABLE IF NOT EXISTS {} (sink text PRIMARY KEY, state text NOT NULL)", checkpoint_table),
            {});
        const Value rows =
            connection_.query(fmt::format("SELECT state FROM {} WHERE sink = $1", checkpoint_table), {Value(table_)});
        if (rows.as_array().empty()) return;
        const std::string where = fmt::format("{} row '{}' of '{}'", checkpoint_table, table_, where_);
        resumed_ = Checkpoint::from_value(Value::from_json(rows[0]["state"].as_string()), where);
        check_checkpoint_input(*resumed_, setup, where);
    }

    void store(const Checkpoint& checkpoint) {
        if (!resume_) return;
        connection_.upsert(checkpoint_table,
                           Value::object({{"sink", table_}, {"state", checkpoint.to_value().to_json()}}), "sink");
    }

    std::string table_;
    std::string key_;
    std::string where_;  // the output as messages show it (no password)
    bool resume_;
    PostgresConnection connection_;
    std::set<std::string> columns_;
    std::set<std::string> committed_columns_;  // the columns as of the last written row
};

}  // namespace

std::unique_ptr<RecordSink> make_postgres_sink(const Sink& sink, const SinkSetup& setup) {
    return std::make_unique<PostgresSink>(sink, setup);
}

}  // namespace statenet::detail
