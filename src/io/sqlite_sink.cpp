// SQLite sink: a TableSink over one SQLite connection to the output file.
#include "io/table_sink.hpp"
#include "resources/sqlite_resource.hpp"

#include <fmt/format.h>

namespace statenet::detail {

TableTarget open_sqlite_target(const Sink& sink) {
    SqliteConfig config;
    config.name = fmt::format("output '{}'", sink.path);
    config.path = sink.path;
    config.pool = 1;
    std::unique_ptr<Connection> connection;
    try {
        connection = std::make_unique<SqliteConnection>(config);
    } catch (const std::runtime_error& e) {
        throw std::invalid_argument(e.what());
    }
    TableDialect dialect{
        "SQLite", sink.path, "SELECT name FROM pragma_table_info(?)", [](const Value&) { return std::string(); },
        "?",      false};
    return {std::move(connection), std::move(dialect)};
}

std::unique_ptr<RecordSink> make_sqlite_sink(const Sink& sink, const SinkSetup& setup) {
    return std::make_unique<TableSink>(sink, setup, open_sqlite_target(sink));
}

}  // namespace statenet::detail
