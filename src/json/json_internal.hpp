// Internals shared by the JSON reader (parse.cpp), the strict scan (field_scan.cpp) and
// the JSON writer (write.cpp).
#pragma once

#include <statenet/value.hpp>

#include <simdjson.h>

#include <cstddef>
#include <string_view>
#include <vector>

namespace statenet::detail {

// Past the JSON whitespace (space, tab, line feed, carriage return) at p.
inline bool is_json_space(char c) noexcept { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }
inline const char* skip_json_space(const char* p, const char* end) noexcept {
    while (p < end && is_json_space(*p)) {
        ++p;
    }
    return p;
}

// Length of the well-formed UTF-8 sequence at p (RFC 3629: no overlongs, no
// surrogates, nothing above U+10FFFF), or 0 when the bytes there are not one.
// Inline because the writer calls it for every non-ASCII sequence it copies.
inline std::size_t utf8_sequence_length(const unsigned char* p, std::size_t available) noexcept {
    const auto continuation = [](unsigned char c) { return (c & 0xC0) == 0x80; };
    const unsigned char lead = p[0];
    if (lead < 0x80) {
        return 1;
    }
    if (lead < 0xC2) {
        return 0;
    }
    if (lead < 0xE0) {
        return available >= 2 && continuation(p[1]) ? 2 : 0;
    }
    if (lead < 0xF0) {
        if (available < 3) {
            return 0;
        }
        const unsigned char low = lead == 0xE0 ? 0xA0 : 0x80;
        const unsigned char high = lead == 0xED ? 0x9F : 0xBF;
        return p[1] >= low && p[1] <= high && continuation(p[2]) ? 3 : 0;
    }
    if (lead < 0xF5) {
        if (available < 4) {
            return 0;
        }
        const unsigned char low = lead == 0xF0 ? 0x90 : 0x80;
        const unsigned char high = lead == 0xF4 ? 0x8F : 0xBF;
        return p[1] >= low && p[1] <= high && continuation(p[2]) && continuation(p[3]) ? 4 : 0;
    }
    return 0;
}

// A DOM parser that refuses documents nested deeper than max_nesting_depth (DEPTH_ERROR).
simdjson::dom::parser nesting_limited_parser();

// The offset of the '[' or '{' that opens a level beyond max_nesting_depth, where a
// DEPTH_ERROR is; npos when the text does not nest that deep.
std::size_t nesting_error_offset(std::string_view json) noexcept;

// Compact JSON appended to `out`, as Value::to_json writes it.
void append_json(std::string& out, const Value& value);
void append_json_string(std::string& out, std::string_view text);

// The Value that Value::from_json makes of an element.
Value element_to_value(simdjson::dom::element element);

}  // namespace statenet::detail
