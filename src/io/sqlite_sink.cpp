// SQLite sink: emitted records as rows of a table, inserted or upserted by key, committed in
// transactions of N records together with the stream's checkpoint row.
#include "io/record_sink.hpp"
#include "resources/sqlite_resource.hpp"
#include "resources/sqlite_values.hpp"

#include <fmt/format.h>

#include <set>
#include <stdexcept>

namespace statenet::detail {

namespace {

constexpr const char* checkpoint_table = "statenet_checkpoints";

class SqliteSink final : public RecordSink {
public:
    SqliteSink(const Sink& sink, const SinkSetup& setup)
        : table_(sink.table), key_(sink.key), resume_(setup.resume), connection_(config(sink)) {
        if (!is_identifier(table_)) throw std::invalid_argument(fmt::format("invalid SQLite table name '{}'", table_));
        if (!key_.empty() && !is_identifier(key_))
            throw std::invalid_argument(fmt::format("invalid SQLite key column '{}'", key_));
        try {
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
        connection_.begin();
    }

    void write(Value&& data) override {
        if (!data.is_object() || data.as_object().empty())
            throw RecordRefused("SinkError", "only non-empty objects can be written as SQLite rows");
        if (!key_.empty() && !data.find(key_))
            throw RecordRefused("MissingField",
                                fmt::format("the record has no key field '{}' for table '{}'", key_, table_));
        for (const auto& member : data.as_object())
            if (!is_identifier(member.first))
                throw RecordRefused("SinkError",
                                    fmt::format("field '{}' cannot be a SQLite column name", member.first));
        add_columns(data);
        try {
            if (key_.empty()) connection_.insert(table_, data);
            else connection_.upsert(table_, data, key_);
        } catch (const std::runtime_error& e) {
            throw RecordRefused("SinkError", e.what());
        }
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
    static SqliteConfig config(const Sink& sink) {
        SqliteConfig config;
        config.name = fmt::format("output '{}'", sink.path);
        config.path = sink.path;
        config.pool = 1;
        return config;
    }

    void read_columns() {
        const Value rows = connection_.query(fmt::format("PRAGMA table_info({})", quote_identifier(table_)), {});
        for (const auto& row : rows.as_array()) columns_.insert(row["name"].as_string());
    }

    /// Creates the table from the first record, and adds a column for each new field.
    void add_columns(const Value& data) {
        if (columns_.empty()) {
            std::string columns;
            for (const auto& member : data.as_object()) {
                if (!columns.empty()) columns += ", ";
                columns += quote_identifier(member.first);
                if (member.first == key_) columns += " PRIMARY KEY";
                columns_.insert(member.first);
            }
            connection_.exec(fmt::format("CREATE TABLE {} ({})", quote_identifier(table_), columns), {});
            return;
        }
        for (const auto& member : data.as_object()) {
            if (columns_.count(member.first)) continue;
            connection_.exec(
                fmt::format("ALTER TABLE {} ADD COLUMN {}", quote_identifier(table_), quote_identifier(member.first)),
                {});
            columns_.insert(member.first);
        }
    }

    void load_checkpoint(const SinkSetup& setup) {
        connection_.exec(
            fmt::format("CREATE TABLE IF NOT EXISTS {} (sink TEXT PRIMARY KEY, state TEXT NOT NULL)", checkpoint_table),
            {});
        const Value rows =
            connection_.query(fmt::format("SELECT state FROM {} WHERE sink = ?", checkpoint_table), {Value(table_)});
        if (rows.as_array().empty()) return;
        const std::string where =
            fmt::format("{} row '{}' of '{}'", checkpoint_table, table_, connection_.config().path);
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
    bool resume_;
    SqliteConnection connection_;
    std::set<std::string> columns_;
};

}  // namespace

std::unique_ptr<RecordSink> make_sqlite_sink(const Sink& sink, const SinkSetup& setup) {
    return std::make_unique<SqliteSink>(sink, setup);
}

}  // namespace statenet::detail
