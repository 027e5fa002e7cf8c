// PostgreSQL sink: a TableSink over one libpq connection; a new column's type comes
// from its first value.
#include "io/table_sink.hpp"
#include "resources/postgres_resource.hpp"
#include "resources/postgres_values.hpp"

#include <fmt/format.h>

namespace statenet::detail {

namespace {

std::string column_type(const Value& value) {
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

}  // namespace

TableTarget open_postgres_target(const Sink& sink) {
    const std::string where = "postgres:" + redact_dsn(sink.path);
    std::unique_ptr<Connection> connection;
    try {
        connection =
            std::make_unique<PostgresConnection>(PostgresConfig{fmt::format("output '{}'", where), sink.path, 0});
    } catch (const std::runtime_error& e) {
        throw std::invalid_argument(e.what());
    }
    TableDialect dialect{"PostgreSQL",
                         where,
                         "SELECT column_name::text AS name FROM information_schema.columns "
                         "WHERE table_schema = current_schema() AND table_name = $1",
                         column_type,
                         "$1",
                         true};
    return {std::move(connection), std::move(dialect)};
}

std::unique_ptr<RecordSink> make_postgres_sink(const Sink& sink, const SinkSetup& setup) {
    return std::make_unique<TableSink>(sink, setup, open_postgres_target(sink));
}

}  // namespace statenet::detail
