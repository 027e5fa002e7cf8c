// Reference mode: key extraction, the row load and the version-checked write-back.
#include "exec/reference.hpp"

#include <fmt/format.h>

#include <utility>

namespace statenet::detail {

namespace {

// Lua has one number type: 2.0 read from a REAL column comes back as the integer 2.
bool same(const Value& a, const Value& b) {
    if (a.is_number() && b.is_number()) return a.as_number() == b.as_number();
    return a == b;
}

}  // namespace

Value reference_key(const ReferenceConfig& config, const Value& input) {
    if (input.is_string() || input.is_int()) return input;
    if (input.is_object()) {
        const Value* key = input.find(config.key);
        if (key && (key->is_string() || key->is_int())) return *key;
        if (!key)
            throw std::invalid_argument(fmt::format(
                "a reference-mode record needs its key field '{}' (the input is the row's key)", config.key));
        throw std::invalid_argument(
            fmt::format("key field '{}' must be a string or an integer, not {}", config.key, type_name(key->type())));
    }
    throw std::invalid_argument(
        fmt::format("a reference-mode record is a key: an object with field '{}', a string or an integer, not {}",
                    config.key, type_name(input.type())));
}

std::optional<Value> load_reference_row(SqliteConnection& connection, const ReferenceConfig& config, const Value& key) {
    const std::string sql = fmt::format("SELECT * FROM {} WHERE {} = ? LIMIT 1", quote_identifier(config.table),
                                        quote_identifier(config.key));
    Value rows = connection.query(sql, {key});
    if (rows.size() == 0) return std::nullopt;
    return std::move(rows[0]);
}

ReferenceWrite write_reference_row(SqliteConnection& connection, const ReferenceConfig& config, const Value& loaded,
                                   Value& final_row) {
    for (const std::string* fixed : {&config.key, &config.version})
        if (!same(loaded[*fixed], std::as_const(final_row)[*fixed]))
            throw std::invalid_argument(
                fmt::format("field '{}' is the row's {} in reference mode and cannot be changed", *fixed,
                            fixed == &config.key ? "key" : "version"));

    std::string assignments;
    Value::Array params;
    auto assign = [&](const std::string& column, const Value& value) {
        if (!is_identifier(column))
            throw std::invalid_argument(fmt::format("field '{}' cannot be a column name", column));
        assignments += quote_identifier(column) + " = ?, ";
        params.push_back(value);
    };
    for (const auto& [name, value] : final_row.as_object())
        if (const Value* before = loaded.find(name); !before || !same(*before, value)) assign(name, value);
    for (const auto& [name, value] : loaded.as_object())
        if (!final_row.find(name) && !value.is_null()) assign(name, Value());
    if (params.empty()) return ReferenceWrite::unchanged;

    const std::string version = quote_identifier(config.version);
    const std::string sql =
        fmt::format("UPDATE {} SET {}{} = coalesce({}, 0) + 1 WHERE {} = ? AND {} IS ?", quote_identifier(config.table),
                    assignments, version, version, quote_identifier(config.key), version);
    params.push_back(loaded[config.key]);
    params.push_back(loaded[config.version]);
    if (connection.exec(sql, params) == 0) return ReferenceWrite::conflict;
    const Value& old_version = loaded[config.version];
    final_row.set(config.version,
                  Value(static_cast<std::int64_t>(old_version.is_int() ? old_version.as_int() + 1 : 1)));
    return ReferenceWrite::written;
}

}  // namespace statenet::detail
