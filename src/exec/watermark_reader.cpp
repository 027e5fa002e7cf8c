// Incremental map readers (exec/watermark_reader.hpp): the query wrapped in a filter on
// the watermark column, its bounds bound as parameters.
#include "exec/watermark_reader.hpp"

#include "exec/item_readers.hpp"
#include "io/table_sink.hpp"
#include "io/watermarks.hpp"
#include "resources/sqlite_values.hpp"

#include <fmt/format.h>

#include <stdexcept>

namespace statenet::detail {

namespace {

/// `SELECT what FROM (query) AS statenet_rows WHERE <conditions on the column>`, with
/// `?` (SQLite) or `$n` (PostgreSQL) parameters.
std::string windowed(const MapReader& reader, const std::string& what, bool above, bool up_to) {
    const bool postgres = reader.type == "postgres";
    int n = 0;
    const auto parameter = [&] { return postgres ? fmt::format("${}", ++n) : std::string("?"); };
    const std::string column = quote_identifier(reader.watermark);
    std::string where;
    if (above) where = fmt::format("{} > {}", column, parameter());
    if (up_to) where += fmt::format("{}{} <= {}", where.empty() ? "" : " AND ", column, parameter());
    return fmt::format("SELECT {} FROM ({}) AS statenet_rows{}{}", what, reader.query, where.empty() ? "" : " WHERE ",
                       where);
}

std::unique_ptr<RecordSource> open_query(const MapReader& reader, const Model& model, const std::string& query,
                                         const Value::Array& params) {
    const ResourceDecl& r = model.resources[static_cast<std::size_t>(reader.resource)];
    return reader.type == "sqlite" ? make_sqlite_source(r.path, query, params)
                                   : make_postgres_source(r.postgres.dsn, query, params);
}

Value::Array bounds(const WatermarkWindow& window) {
    Value::Array params;
    if (!window.low.is_null()) params.push_back(window.low);
    params.push_back(window.high);
    return params;
}

StoredWatermark stored_watermark(const Sink& sink) {
    TableTarget target = sink.kind == Sink::Kind::postgres ? open_postgres_target(sink) : open_sqlite_target(sink);
    try {
        return read_watermark(*target.connection, sink.table, target.dialect.parameter);
    } catch (const std::runtime_error& e) {
        throw std::invalid_argument(e.what());
    }
}

}  // namespace

WatermarkWindow watermark_window(const MapReader& reader, const Model& model, const Sink& sink, bool resume) {
    const StoredWatermark stored = stored_watermark(sink);
    WatermarkWindow window{stored.value, Value()};
    if (resume && !stored.pending.is_null()) {
        window.high = stored.pending;
        return window;
    }
    const std::string highest = fmt::format("max({}) AS statenet_high", quote_identifier(reader.watermark));
    Value::Array params;
    if (!window.low.is_null()) params.push_back(window.low);
    auto source = open_query(reader, model, windowed(reader, highest, !window.low.is_null(), false), params);
    RawRecord row;
    try {
        if (source->next(row) && row.value)
            if (const Value* high = row.value->find("statenet_high")) window.high = *high;
    } catch (const std::runtime_error& e) {
        throw std::invalid_argument(e.what());
    }
    return window;
}

std::unique_ptr<RecordSource> open_watermark_reader(const MapReader& reader, const Model& model,
                                                    const WatermarkWindow& window) {
    if (window.high.is_null()) return make_item_list_source({});
    return open_query(reader, model, windowed(reader, "*", !window.low.is_null(), true), bounds(window));
}

std::string watermark_identity(const std::string& reader_identity, const MapReader& reader,
                               const WatermarkWindow& window) {
    return fmt::format("{} where {} in ({}, {}]", reader_identity, reader.watermark, window.low.to_json(),
                       window.high.to_json());
}

}  // namespace statenet::detail
