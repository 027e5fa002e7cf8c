// The strict JSON grammar: scan_object_fields finds where each top-level field of a JSON
// object's text is, without building any tree; scan_json_syntax says where a document breaks.
#pragma once

#include <cstddef>
#include <statenet/value.hpp>

#include <string_view>
#include <vector>

namespace statenet::detail {

/// What a top-level field's value token is.
enum class TokenKind : unsigned char { string, escaped_string, number, true_value, false_value, null, object, array };

struct ScannedField {
    std::string_view key;        ///< the key's text between its quotes (it has no escapes)
    std::string_view raw_key;    ///< the key token, quotes included
    std::string_view raw_value;  ///< the value token as it is in the text
    TokenKind kind = TokenKind::null;
    bool tight = false;   ///< `"key":value` with nothing between the tokens
    bool joined = false;  ///< the next field follows after one comma and nothing else
};

/// Containers nested deeper than this are left to simdjson (the scan says no), which
/// refuses them with the same limit.
inline constexpr int scan_max_depth = max_nesting_depth;

/// Scans `text` as one JSON object and appends its top-level fields to `fields` in
/// text order. At least as strict as simdjson's DOM parser (RFC 8259 grammar, UTF-8
/// checked, control characters refused in strings, integers within 64 bits, finite
/// numbers), so what it accepts simdjson accepts too. Returns false when the text is
/// not such an object, or when it is one the scan leaves to simdjson: a key with
/// escapes, nesting beyond scan_max_depth, a surrogate escape that is not a proper pair.
bool scan_object_fields(std::string_view text, std::vector<ScannedField>& fields);

struct JsonSyntax {
    std::size_t error = std::string_view::npos;  ///< byte offset of the first error, npos when none
    std::vector<std::size_t> big_integer_ends;   ///< ends of integers beyond 64 bits, before `error`
};

/// Reads `text` as one JSON document by the same grammar, with simdjson's limits (depth
/// 1024, numbers within a double's range; integers of any length are valid JSON and
/// listed). `error` is where simdjson's grammar check would stop: a malformed number or
/// literal at its start, an unclosed string at its quote, a bad escape at its backslash,
/// anything else where it stands. The error path only: slower than the record scan.
JsonSyntax scan_json_syntax(std::string_view text);

}  // namespace statenet::detail
