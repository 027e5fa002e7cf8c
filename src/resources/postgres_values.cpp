// Values in and out of PostgreSQL: text-format parameters and typed result columns.
#include "resources/postgres_values.hpp"

#include <fmt/format.h>

#include <charconv>
#include <cmath>
#include <limits>
#include <regex>

namespace statenet::detail {

namespace {

// Type OIDs from the server's pg_type catalogue; they are fixed for built-in types.
constexpr Oid bool_oid = 16;
constexpr Oid int8_oid = 20;
constexpr Oid int2_oid = 21;
constexpr Oid int4_oid = 23;
constexpr Oid oid_oid = 26;
constexpr Oid json_oid = 114;
constexpr Oid float4_oid = 700;
constexpr Oid float8_oid = 701;
constexpr Oid numeric_oid = 1700;
constexpr Oid jsonb_oid = 3802;
constexpr Oid untyped = 0;

std::string float_text(double d) {
    if (std::isnan(d)) return "NaN";
    if (std::isinf(d)) return d > 0 ? "Infinity" : "-Infinity";
    return fmt::format("{}", d);  // shortest text that reads back as the same double
}

Value number_value(std::string_view text, bool whole_allowed) {
    if (whole_allowed && text.find_first_of(".eEN") == std::string_view::npos) {
        std::int64_t i = 0;
        auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), i);
        if (ec == std::errc() && end == text.data() + text.size()) return Value(i);
    }
    if (text == "NaN") return Value(std::numeric_limits<double>::quiet_NaN());
    if (text == "Infinity") return Value(std::numeric_limits<double>::infinity());
    if (text == "-Infinity") return Value(-std::numeric_limits<double>::infinity());
    return Value(std::strtod(std::string(text).c_str(), nullptr));
}

}  // namespace

PgParams::PgParams(const Value::Array& params) {
    text_.reserve(params.size());
    types_.reserve(params.size());
    for (const Value& value : params) {
        switch (value.type()) {
        case Value::Type::null:
            text_.emplace_back();
            types_.push_back(untyped);
            break;
        case Value::Type::boolean:
            text_.emplace_back(value.as_bool() ? "true" : "false");
            types_.push_back(bool_oid);
            break;
        case Value::Type::integer:
            text_.push_back(std::to_string(value.as_int()));
            types_.push_back(int8_oid);
            break;
        case Value::Type::number:
            text_.push_back(float_text(value.as_number()));
            types_.push_back(float8_oid);
            break;
        case Value::Type::string:
            text_.push_back(value.as_string());
            types_.push_back(untyped);
            break;
        case Value::Type::array:
        case Value::Type::object:
            text_.push_back(value.to_json());
            types_.push_back(untyped);
            break;
        }
    }
    values_.reserve(params.size());
    for (std::size_t i = 0; i < params.size(); ++i) values_.push_back(params[i].is_null() ? nullptr : text_[i].c_str());
}

Value pg_column_value(const PGresult* result, int row, int column) {
    if (PQgetisnull(result, row, column)) return Value();
    const std::string_view text(PQgetvalue(result, row, column),
                                static_cast<std::size_t>(PQgetlength(result, row, column)));
    switch (PQftype(result, column)) {
    case bool_oid: return Value(text == "t");
    case int2_oid:
    case int4_oid:
    case int8_oid:
    case oid_oid: return number_value(text, true);
    case float4_oid:
    case float8_oid: return number_value(text, false);
    case numeric_oid: return number_value(text, true);
    case json_oid:
    case jsonb_oid: return Value::from_json(text);
    default: return Value(text);
    }
}

Value pg_rows(const PGresult* result) {
    const int rows = PQntuples(result);
    const int columns = PQnfields(result);
    Value::Array out;
    out.reserve(static_cast<std::size_t>(rows));
    for (int r = 0; r < rows; ++r) {
        Value::Object object;
        object.reserve(static_cast<std::size_t>(columns));
        for (int c = 0; c < columns; ++c) object.emplace_back(PQfname(result, c), pg_column_value(result, r, c));
        out.emplace_back(std::move(object));
    }
    return Value(std::move(out));
}

std::string pg_message(const char* message) {
    std::string text = message ? message : "";
    while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
    return text;
}

std::string pg_error(const PGresult* result, PGconn* conn) {
    const char* primary = result ? PQresultErrorField(result, PG_DIAG_MESSAGE_PRIMARY) : nullptr;
    if (!primary) return pg_message(result ? PQresultErrorMessage(result) : PQerrorMessage(conn));
    std::string text = primary;
    if (const char* detail = PQresultErrorField(result, PG_DIAG_MESSAGE_DETAIL)) text += fmt::format(" ({})", detail);
    if (const char* state = PQresultErrorField(result, PG_DIAG_SQLSTATE)) text += fmt::format(" [{}]", state);
    return text;
}

void pg_quiet_notices(PGconn* conn) {
    PQsetNoticeProcessor(
        conn, [](void*, const char*) {}, nullptr);
}

std::string redact_dsn(const std::string& dsn) {
    static const std::regex keyword(R"((password\s*=\s*)('(?:[^'\\]|\\.)*'|\S+))", std::regex::icase);
    static const std::regex uri(R"(^(postgres(?:ql)?://[^:/@]*:)[^@]*@)", std::regex::icase);
    std::string out = std::regex_replace(dsn, keyword, "$1***");
    return std::regex_replace(out, uri, "$1***@");
}

}  // namespace statenet::detail
