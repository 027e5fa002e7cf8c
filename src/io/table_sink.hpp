// A database table as a sink: emitted records become rows, inserted or upserted by key,
// the table and its columns created from the records, committed in transactions of N
// records together with the stream's checkpoint row. SQLite and PostgreSQL differ only
// in the details a TableDialect names.
#pragma once

#include "io/record_sink.hpp"
#include "resources/connection.hpp"

#include <memory>
#include <optional>
#include <set>
#include <string>

namespace statenet::detail {

struct TableDialect {
    const char* product;  // "SQLite", "PostgreSQL": in messages
    std::string where;    // the output as messages show it (no password)
    /// A query of the table's column names (column `name`), its one parameter the table.
    const char* columns_query;
    /// The SQL type of a new column from its first value; empty = untyped.
    std::string (*column_type)(const Value& first);
    /// `?` or `$1`: the checkpoint query's parameter.
    const char* parameter;
    /// A failed statement aborts the transaction (PostgreSQL): a savepoint keeps the rows
    /// already written when one record is refused.
    bool savepoint_per_row;
};

/// A database sink's connection and dialect.
struct TableTarget {
    std::unique_ptr<Connection> connection;
    TableDialect dialect;
};

/// Opens the sink's database (a SQLite file, a PostgreSQL conninfo); throws
/// std::invalid_argument when it cannot.
TableTarget open_sqlite_target(const Sink& sink);
TableTarget open_postgres_target(const Sink& sink);

/// With SinkSetup::replace the rows go to `<table>_statenet_staging` (started over unless
/// a resume continues it), which close() renames over the table in its last transaction.
/// With SinkSetup::watermark close() stores the new watermark in that transaction. Either
/// way close() removes the checkpoint instead of marking it done: the next run, resumed or
/// not, is a new load.
class TableSink final : public RecordSink {
public:
    /// Throws std::invalid_argument when the table cannot be used or its checkpoint does
    /// not match.
    TableSink(const Sink& sink, const SinkSetup& setup, TableTarget target);

    void write(Value&& data) override;
    void commit(Checkpoint& checkpoint) override;
    void close(Checkpoint& checkpoint) override;

private:
    void read_columns();
    void add_columns(const Value& data);
    void load_checkpoint(const SinkSetup& setup);
    void store(const Checkpoint& checkpoint, bool last);
    void swap_in();

    std::string table_;               // where rows go: the table, or its staging table
    std::string replaced_;            // replace: the table the staging table replaces
    std::optional<Value> watermark_;  // the new watermark (SinkSetup::watermark)
    Value stored_watermark_;          // the watermark before this run
    std::string key_;
    bool resume_;
    TableDialect dialect_;
    std::unique_ptr<Connection> connection_;
    std::set<std::string> columns_;
    std::set<std::string> committed_columns_;  // the columns as of the last written row
};

}  // namespace statenet::detail
