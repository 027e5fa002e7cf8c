#include "io/table_sink.hpp"
#include "io/watermarks.hpp"
#include "resources/sqlite_values.hpp"

#include <fmt/format.h>

#include <stdexcept>

namespace statenet::detail {

namespace {

constexpr const char* checkpoint_table = "statenet_checkpoints";
constexpr const char* row_savepoint = "statenet_row";
constexpr const char* staging_suffix = "_statenet_staging";

}  // namespace

TableSink::TableSink(const Sink& sink, const SinkSetup& setup, TableTarget target)
    : table_(sink.table),
      watermark_(setup.watermark),
      key_(sink.key),
      resume_(setup.resume),
      dialect_(std::move(target.dialect)),
      connection_(std::move(target.connection)) {
    if (!is_identifier(table_))
        throw std::invalid_argument(fmt::format("invalid {} table name '{}'", dialect_.product, table_));
    if (!key_.empty() && !is_identifier(key_))
        throw std::invalid_argument(fmt::format("invalid {} key column '{}'", dialect_.product, key_));
    if (setup.replace) {
        replaced_ = table_;
        table_ += staging_suffix;
    }
    try {
        connection_->begin();
        if (resume_) load_checkpoint(setup);
        // What a killed load left in the staging table goes, unless this run continues it.
        if (!replaced_.empty() && !resumed_)
            connection_->exec(fmt::format("DROP TABLE IF EXISTS {}", quote_identifier(table_)), {});
        read_columns();
        if (watermark_) stored_watermark_ = read_watermark(*connection_, table_, dialect_.parameter).value;
        if (!key_.empty() && !columns_.empty())
            connection_->exec(fmt::format("CREATE UNIQUE INDEX IF NOT EXISTS {} ON {} ({})",
                                          quote_identifier("statenet_" + table_ + "_" + key_), quote_identifier(table_),
                                          quote_identifier(key_)),
                              {});
    } catch (const std::runtime_error& e) {
        throw std::invalid_argument(e.what());
    }
}

void TableSink::write(Value&& data) {
    if (!data.is_object() || data.as_object().empty())
        throw RecordRefused("SinkError",
                            fmt::format("only non-empty objects can be written as {} rows", dialect_.product));
    if (!key_.empty() && !data.find(key_))
        throw RecordRefused("MissingField",
                            fmt::format("the record has no key field '{}' for table '{}'", key_, table_));
    for (const auto& member : data.as_object())
        if (!is_identifier(member.first))
            throw RecordRefused("SinkError",
                                fmt::format("field '{}' cannot be a {} column name", member.first, dialect_.product));
    if (dialect_.savepoint_per_row) connection_->savepoint(row_savepoint);
    try {
        add_columns(data);
        if (key_.empty()) connection_->insert(table_, data);
        else connection_->upsert(table_, data, key_);
    } catch (const std::runtime_error& e) {
        if (dialect_.savepoint_per_row) {
            connection_->rollback_to(row_savepoint);
            columns_ = committed_columns_;
        }
        throw RecordRefused("SinkError", e.what());
    }
    if (dialect_.savepoint_per_row) connection_->release(row_savepoint);
    committed_columns_ = columns_;
}

void TableSink::commit(Checkpoint& checkpoint) {
    store(checkpoint, false);
    // A resumed run reads up to the same bound, so that its rows are the checkpoint's.
    if (resume_ && watermark_ && !watermark_->is_null())
        write_watermark(*connection_, table_, {stored_watermark_, *watermark_});
    connection_->commit();
    connection_->begin();
}

void TableSink::close(Checkpoint& checkpoint) {
    store(checkpoint, true);
    if (!replaced_.empty()) swap_in();
    if (watermark_ && !watermark_->is_null()) write_watermark(*connection_, table_, {*watermark_, Value()});
    connection_->commit();
}

/// The staging table takes the table's place; with no rows loaded there is no staging
/// table, and the table is emptied instead.
void TableSink::swap_in() {
    if (columns_.empty()) {
        if (!connection_->query(dialect_.columns_query, {Value(replaced_)}).as_array().empty())
            connection_->exec(fmt::format("DELETE FROM {}", quote_identifier(replaced_)), {});
        return;
    }
    connection_->exec(fmt::format("DROP TABLE IF EXISTS {}", quote_identifier(replaced_)), {});
    connection_->exec(fmt::format("ALTER TABLE {} RENAME TO {}", quote_identifier(table_), quote_identifier(replaced_)),
                      {});
}

void TableSink::read_columns() {
    const Value rows = connection_->query(dialect_.columns_query, {Value(table_)});
    for (const auto& row : rows.as_array()) columns_.insert(row["name"].as_string());
    committed_columns_ = columns_;
}

void TableSink::add_columns(const Value& data) {
    const auto column = [&](const std::string& field, const Value& value) {
        std::string type = dialect_.column_type(value);
        return type.empty() ? quote_identifier(field) : quote_identifier(field) + " " + type;
    };
    if (columns_.empty()) {
        std::string columns;
        for (const auto& [field, value] : data.as_object()) {
            if (!columns.empty()) columns += ", ";
            columns += column(field, value);
            if (field == key_) columns += " PRIMARY KEY";
            columns_.insert(field);
        }
        connection_->exec(fmt::format("CREATE TABLE {} ({})", quote_identifier(table_), columns), {});
        return;
    }
    for (const auto& [field, value] : data.as_object()) {
        if (columns_.count(field)) continue;
        connection_->exec(fmt::format("ALTER TABLE {} ADD COLUMN {}", quote_identifier(table_), column(field, value)),
                          {});
        columns_.insert(field);
    }
}

void TableSink::load_checkpoint(const SinkSetup& setup) {
    connection_->exec(
        fmt::format("CREATE TABLE IF NOT EXISTS {} (sink TEXT PRIMARY KEY, state TEXT NOT NULL)", checkpoint_table),
        {});
    const Value rows = connection_->query(
        fmt::format("SELECT state FROM {} WHERE sink = {}", checkpoint_table, dialect_.parameter), {Value(table_)});
    if (rows.as_array().empty()) return;
    const std::string where = fmt::format("{} row '{}' of '{}'", checkpoint_table, table_, dialect_.where);
    resumed_ = Checkpoint::from_value(Value::from_json(rows[0]["state"].as_string()), where);
    check_checkpoint_input(*resumed_, setup, where);
}

void TableSink::store(const Checkpoint& checkpoint, bool last) {
    if (!resume_) return;
    if (last && (!replaced_.empty() || watermark_)) {
        connection_->exec(fmt::format("DELETE FROM {} WHERE sink = {}", checkpoint_table, dialect_.parameter),
                          {Value(table_)});
        return;
    }
    connection_->upsert(checkpoint_table, Value::object({{"sink", table_}, {"state", checkpoint.to_value().to_json()}}),
                        "sink");
}

}  // namespace statenet::detail
