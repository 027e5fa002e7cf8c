// Values in and out of SQLite: binding parameters, reading columns, checked identifiers.
#include "resources/sqlite_values.hpp"

#include <SQLiteCpp/SQLiteCpp.h>
#include <sqlite3.h>

#include <cstdint>

namespace statenet::detail {

bool is_identifier(std::string_view name) noexcept {
    if (name.empty()) return false;
    auto alpha = [](char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_'; };
    if (!alpha(name.front())) return false;
    for (char c : name)
        if (!alpha(c) && !(c >= '0' && c <= '9')) return false;
    return true;
}

// Identifiers are checked before quoting, so no quote inside needs escaping.
std::string quote_identifier(std::string_view name) {
    std::string out;
    out.reserve(name.size() + 2);
    out += '"';
    out += name;
    out += '"';
    return out;
}

void bind_value(SQLite::Statement& statement, int index, const Value& value) {
    switch (value.type()) {
    case Value::Type::null: statement.bind(index); break;
    case Value::Type::boolean: statement.bind(index, static_cast<std::int64_t>(value.as_bool() ? 1 : 0)); break;
    case Value::Type::integer: statement.bind(index, value.as_int()); break;
    case Value::Type::number: statement.bind(index, value.as_number()); break;
    case Value::Type::string: statement.bind(index, value.as_string()); break;
    case Value::Type::array:
    case Value::Type::object: statement.bind(index, value.to_json()); break;
    }
}

Value column_value(const SQLite::Column& column) {
    const int type = column.getType();
    if (type == SQLITE_INTEGER) return Value(static_cast<std::int64_t>(column.getInt64()));
    if (type == SQLITE_FLOAT) return Value(column.getDouble());
    if (type == SQLITE_NULL) return Value();
    return Value(column.getString());  // TEXT, and BLOB as its bytes
}

}  // namespace statenet::detail
