// Values in and out of SQLite: binding parameters, reading columns, checked identifiers.
#pragma once

#include <statenet/value.hpp>

#include <string>
#include <string_view>

namespace SQLite {
class Statement;
class Column;
}  // namespace SQLite

namespace statenet::detail {

/// [A-Za-z_][A-Za-z0-9_]*: a table or column name that is safe to quote.
bool is_identifier(std::string_view name) noexcept;
/// "name", for names that passed is_identifier.
std::string quote_identifier(std::string_view name);
/// Binds a Value: booleans as 0/1, arrays and objects as JSON text.
void bind_value(SQLite::Statement& statement, int index, const Value& value);
/// A column as a Value: integers, reals, null, and text (BLOBs as their bytes).
Value column_value(const SQLite::Column& column);

}  // namespace statenet::detail
