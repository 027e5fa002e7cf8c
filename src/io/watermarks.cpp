// Incremental loads' watermarks in the target database (io/watermarks.hpp).
#include "io/watermarks.hpp"

#include <fmt/format.h>

namespace statenet::detail {

namespace {

constexpr const char* watermark_table = "statenet_watermarks";

Value decode(const Value& text) { return text.is_string() ? Value::from_json(text.as_string()) : Value(); }

Value encode(const Value& value) { return value.is_null() ? Value() : Value(value.to_json()); }

}  // namespace

StoredWatermark read_watermark(Connection& connection, const std::string& table, const char* parameter) {
    connection.exec(fmt::format("CREATE TABLE IF NOT EXISTS {} (target TEXT PRIMARY KEY, watermark TEXT, pending TEXT)",
                                watermark_table),
                    {});
    const Value rows = connection.query(
        fmt::format("SELECT watermark, pending FROM {} WHERE target = {}", watermark_table, parameter), {Value(table)});
    if (rows.as_array().empty()) return {};
    return {decode(rows[0]["watermark"]), decode(rows[0]["pending"])};
}

void write_watermark(Connection& connection, const std::string& table, const StoredWatermark& watermark) {
    connection.upsert(
        watermark_table,
        Value::object(
            {{"target", Value(table)}, {"watermark", encode(watermark.value)}, {"pending", encode(watermark.pending)}}),
        "target");
}

}  // namespace statenet::detail
