// CSV rows (RFC 4180): splitting a row into fields, typing fields, and writing them back.
#pragma once

#include <statenet/value.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace statenet::detail {

struct CsvField {
    std::string text;
    bool quoted = false;
};

enum class CsvRow {
    complete,
    open_quote,  ///< a quoted field continues on the next line
    malformed,   ///< `error` says why
};

/// Splits one row's text into `fields` at `delimiter` (`,` by default; `;` and tab are
/// common). A quoted field may hold delimiters, doubled quotes and newlines (then the
/// caller appends the next line and calls again).
CsvRow split_csv_row(std::string_view text, std::vector<CsvField>& fields, std::string& error, char delimiter = ',');

/// A field as a record value: unquoted empty = null, unquoted JSON numbers and
/// true/false = those values, anything else (every quoted field) = the string.
Value csv_field_value(const CsvField& field);

/// Appends `value` as one CSV field: null = empty, strings quoted when they need it
/// (they hold the delimiter, a quote or a line break, or would read back as another
/// type), arrays and objects as JSON text.
void append_csv_field(std::string& out, const Value& value, char delimiter = ',');

/// The UTF-8 byte order mark spreadsheet programs put first in their CSV exports.
inline constexpr std::string_view utf8_bom = "\xEF\xBB\xBF";

}  // namespace statenet::detail
