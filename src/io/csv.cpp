// CSV rows (RFC 4180): splitting a row into fields, typing fields, and writing them back.
#include "io/csv.hpp"

#include <fmt/format.h>

#include <charconv>
#include <cstdint>

namespace statenet::detail {

CsvRow split_csv_row(std::string_view text, std::vector<CsvField>& fields, std::string& error, char delimiter) {
    fields.clear();
    std::size_t i = 0;
    for (;;) {
        CsvField field;
        if (i < text.size() && text[i] == '"') {
            field.quoted = true;
            ++i;
            for (;;) {
                const std::size_t quote = text.find('"', i);
                if (quote == std::string_view::npos) return CsvRow::open_quote;
                field.text.append(text.substr(i, quote - i));
                i = quote + 1;
                if (i < text.size() && text[i] == '"') {  // "" is one quote
                    field.text += '"';
                    ++i;
                    continue;
                }
                break;
            }
            if (i < text.size() && text[i] != delimiter) {
                error = fmt::format("unexpected character '{}' after the closing quote of field {}", text[i],
                                    fields.size() + 1);
                return CsvRow::malformed;
            }
        } else {
            const std::size_t comma = text.find(delimiter, i);
            const std::size_t end = comma == std::string_view::npos ? text.size() : comma;
            field.text.assign(text.substr(i, end - i));
            i = end;
        }
        fields.push_back(std::move(field));
        if (i >= text.size()) return CsvRow::complete;
        ++i;  // the delimiter
    }
}

namespace {

// JSON's number grammar: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
bool is_json_number(std::string_view s, bool& integral) {
    std::size_t i = 0;
    auto digits = [&] {
        const std::size_t start = i;
        while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
        return i - start;
    };
    if (i < s.size() && s[i] == '-') ++i;
    const std::size_t first = i;
    const std::size_t count = digits();
    if (count == 0 || (count > 1 && s[first] == '0')) return false;
    integral = true;
    if (i < s.size() && s[i] == '.') {
        ++i;
        integral = false;
        if (digits() == 0) return false;
    }
    if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
        ++i;
        integral = false;
        if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
        if (digits() == 0) return false;
    }
    return i == s.size();
}

}  // namespace

Value csv_field_value(const CsvField& field) {
    if (field.quoted) return Value(field.text);
    const std::string& text = field.text;
    if (text.empty()) return Value();
    if (text == "true") return Value(true);
    if (text == "false") return Value(false);
    bool integral = false;
    if (!is_json_number(text, integral)) return Value(text);
    if (integral) {
        std::int64_t number = 0;
        const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), number);
        if (ec == std::errc() && end == text.data() + text.size()) return Value(number);
    }
    double number = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), number);
    if (ec == std::errc() && end == text.data() + text.size()) return Value(number);
    return Value(text);
}

void append_csv_field(std::string& out, const Value& value, char delimiter) {
    std::string text;
    switch (value.type()) {
    case Value::Type::null: return;
    case Value::Type::string: text = value.as_string(); break;
    default: text = value.to_json(); break;
    }
    // Quote what would otherwise read back differently: separators, quotes, line breaks,
    // and strings that would be typed as null, numbers or booleans.
    bool integral = false;
    const bool quote =
        text.find_first_of("\"\r\n") != std::string::npos || text.find(delimiter) != std::string::npos ||
        (value.is_string() && (text.empty() || text == "true" || text == "false" || is_json_number(text, integral)));
    if (!quote) {
        out += text;
        return;
    }
    out += '"';
    for (char c : text) {
        if (c == '"') out += '"';
        out += c;
    }
    out += '"';
}

}  // namespace statenet::detail
