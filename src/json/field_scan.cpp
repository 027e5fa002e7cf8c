// The strict JSON grammar, hand-written: scan_object_fields records where a record's
// top-level fields are (the record path needs token positions, which simdjson's DOM does
// not keep, and a scan that only finds them costs less than a parse); scan_json_syntax
// runs the same grammar on Value::from_json's error path to say where a document breaks.
#include "json/field_scan.hpp"

#include "json/json_internal.hpp"

#include <array>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <string>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace statenet::detail {

namespace {

// Bytes that end a run of plain string content: the quote, a backslash, control
// characters and the lead of a multi-byte UTF-8 sequence.
constexpr std::array<bool, 256> string_stops = [] {
    std::array<bool, 256> stops{};
    for (int c = 0; c < 0x20; ++c) stops[static_cast<std::size_t>(c)] = true;
    for (int c = 0x80; c < 0x100; ++c) stops[static_cast<std::size_t>(c)] = true;
    stops['"'] = stops['\\'] = true;
    return stops;
}();

inline bool is_digit(char c) { return c >= '0' && c <= '9'; }

inline int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

// The grammar runs two ways, chosen at compile time so that the record path pays for
// nothing it does not use:
//  - RecordScan, the JSON record path's scan of one object: it says no (nullptr) at
//    anything it does not take, at the depth and number limits of scan_max_depth and
//    64-bit integers, and leaves those documents to simdjson.
//  - LocateScan, Value::from_json's error path: any document, with simdjson's limits
//    (depth 1024, integers of any length, numbers within a double's range, tiny ones
//    rounding to zero), noting where it breaks as simdjson would report it and where
//    its big integers end.
struct RecordScan {
    static constexpr int max_depth = scan_max_depth;
    static constexpr bool locating = false;
    static const char* fail(const char*) { return nullptr; }
    static const char* big_integer(const char*) { return nullptr; }
    static const char* out_of_range(const char*, const char*) { return nullptr; }
};

struct LocateScan {
    static constexpr int max_depth = 1024;  // simdjson's default
    static constexpr bool locating = true;
    const char* error = nullptr;
    std::vector<const char*> big_integer_ends;

    const char* fail(const char* at) {
        error = at;
        return nullptr;
    }
    const char* big_integer(const char* token_end) {
        big_integer_ends.push_back(token_end);
        return token_end;
    }
    // simdjson refuses numbers beyond a double's range but rounds tiny ones to zero.
    const char* out_of_range(const char* start, const char* token_end) {
        const double d = std::strtod(std::string(start, token_end).c_str(), nullptr);
        return std::isinf(d) ? fail(start) : token_end;
    }
};

// What may follow a number or a literal without gluing onto it.
inline bool is_delimiter(char c) {
    return is_json_space(c) || c == ',' || c == ':' || c == '[' || c == ']' || c == '{' || c == '}';
}

// A number or literal glued onto what follows ("truex", "01") fails at its start, as
// simdjson reports it. The record scan needs no such check: it checks the next token.
template <class Scan>
inline const char* token_end(Scan& scan, const char* start, const char* p, const char* end) {
    if constexpr (Scan::locating)
        if (p < end && !is_delimiter(*p)) return scan.fail(start);
    return p;
}

// The scanner's steps take the position and return the one past what they read, or
// nullptr when the text is not what they expect (after scan.fail(where) at the place
// that found it). Positions are locals and arguments, never members: stores through
// `char` pointers may alias a member, which would make the compiler reload it around
// every byte.

template <class Scan>
inline const char* literal(Scan& scan, const char* p, const char* end, std::string_view word) {
    if (static_cast<std::size_t>(end - p) < word.size() || std::string_view(p, word.size()) != word)
        return scan.fail(p);
    return token_end(scan, p, p + word.size(), end);
}

// \uXXXX at p: its code unit (or -1), and p moves past it.
int unicode_unit(const char*& p, const char* end) {
    if (end - p < 6 || p[0] != '\\' || p[1] != 'u') return -1;
    int unit = 0;
    for (int i = 2; i < 6; ++i) {
        const int h = hex_value(p[i]);
        if (h < 0) return -1;
        unit = unit * 16 + h;
    }
    p += 6;
    return unit;
}

// At a backslash.
template <class Scan>
const char* escape(Scan& scan, const char* p, const char* end) {
    const char* backslash = p;
    if (end - p < 2) return scan.fail(backslash);
    switch (p[1]) {
    case '"':
    case '\\':
    case '/':
    case 'b':
    case 'f':
    case 'n':
    case 'r':
    case 't': return p + 2;
    case 'u': break;
    default: return scan.fail(backslash);
    }
    const int unit = unicode_unit(p, end);
    if (unit < 0 || (unit >= 0xDC00 && unit <= 0xDFFF)) return scan.fail(backslash);
    if (unit >= 0xD800 && unit <= 0xDBFF) {
        const int low = unicode_unit(p, end);
        if (low < 0xDC00 || low > 0xDFFF) return scan.fail(backslash);
    }
    return p;
}

// Past the plain string content starting at p: up to the first quote, backslash,
// control character or non-ASCII byte (or end). With SSE2 (every x86-64), 16 bytes
// at a time: as signed bytes, control characters and non-ASCII are both below 0x20.
inline const char* plain_run(const char* p, const char* end) {
#if defined(__SSE2__)
    const __m128i quote = _mm_set1_epi8('"'), backslash = _mm_set1_epi8('\\'), space = _mm_set1_epi8(0x20);
    while (end - p >= 16) {
        const __m128i chunk = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
        const __m128i stops = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(chunk, quote), _mm_cmpeq_epi8(chunk, backslash)),
                                           _mm_cmplt_epi8(chunk, space));
        const int mask = _mm_movemask_epi8(stops);
        if (mask != 0) return p + __builtin_ctz(static_cast<unsigned>(mask));
        p += 16;
    }
#endif
    while (p < end && !string_stops[static_cast<unsigned char>(*p)]) ++p;
    return p;
}

// At the opening quote; returns past the closing one. An unclosed string fails at its
// opening quote.
template <class Scan>
const char* string(Scan& scan, const char* p, const char* end, bool& escaped) {
    const char* open = p++;
    for (;;) {
        p = plain_run(p, end);
        if (p >= end) return scan.fail(open);
        const auto c = static_cast<unsigned char>(*p);
        if (c == '"') return p + 1;
        if (c == '\\') {
            escaped = true;
            p = escape(scan, p, end);
            if (!p) return nullptr;
        } else if (c >= 0x80) {
            const std::size_t n =
                utf8_sequence_length(reinterpret_cast<const unsigned char*>(p), static_cast<std::size_t>(end - p));
            if (n == 0) return scan.fail(p);
            p += n;
        } else {
            return scan.fail(p);  // a control character
        }
    }
}

// A malformed number fails at its start.
template <class Scan>
const char* number(Scan& scan, const char* p, const char* end) {
    const char* start = p;
    const bool negative = *p == '-';
    if (negative) ++p;
    if (p < end && *p == '0') {
        ++p;
    } else {
        if (p >= end || *p < '1' || *p > '9') return scan.fail(start);
        while (p < end && is_digit(*p)) ++p;
    }
    bool integer = true, exponent = false;
    if (p < end && *p == '.') {
        integer = false;
        if (++p >= end || !is_digit(*p)) return scan.fail(start);
        while (p < end && is_digit(*p)) ++p;
    }
    if (p < end && (*p == 'e' || *p == 'E')) {
        integer = false;
        exponent = true;
        ++p;
        if (p < end && (*p == '+' || *p == '-')) ++p;
        if (p >= end || !is_digit(*p)) return scan.fail(start);
        while (p < end && is_digit(*p)) ++p;
    }
    if (!token_end(scan, start, p, end)) return nullptr;
    const std::size_t length = static_cast<std::size_t>(p - start);
    // simdjson refuses integers beyond 64 bits and numbers beyond a double's range:
    // only long integers and exponents can be either, so only they are converted here.
    if (integer && length >= 19) {
        bool fits;
        if (negative) {
            std::int64_t i = 0;
            fits = std::from_chars(start, p, i).ec == std::errc();
        } else {
            std::uint64_t u = 0;
            fits = std::from_chars(start, p, u).ec == std::errc();
        }
        return fits ? p : scan.big_integer(p);
    }
    if (!integer && (exponent || length > 300)) {
        double d = 0;
        if (std::from_chars(start, p, d).ec != std::errc()) return scan.out_of_range(start, p);
    }
    return p;
}

template <class Scan>
const char* value(Scan& scan, const char* p, const char* end, TokenKind& kind, int depth);

// At '{' or '['; returns past the matching `close`.
template <class Scan>
const char* container(Scan& scan, const char* p, const char* end, char close, int depth) {
    if (depth >= Scan::max_depth) return scan.fail(p);
    const bool object = close == '}';
    p = skip_json_space(p + 1, end);
    if (p < end && *p == close) return p + 1;
    for (;;) {
        TokenKind kind;
        if (object) {
            bool escaped = false;
            if (p >= end || *p != '"') return scan.fail(p);
            if (!(p = string(scan, p, end, escaped))) return nullptr;
            p = skip_json_space(p, end);
            if (p >= end || *p != ':') return scan.fail(p);
            p = skip_json_space(p + 1, end);
        }
        if (!(p = value(scan, p, end, kind, depth + 1))) return nullptr;
        p = skip_json_space(p, end);
        if (p >= end) return scan.fail(p);
        if (*p == close) return p + 1;
        if (*p != ',') return scan.fail(p);
        p = skip_json_space(p + 1, end);
    }
}

template <class Scan>
const char* value(Scan& scan, const char* p, const char* end, TokenKind& kind, int depth) {
    if (p >= end) return scan.fail(p);
    switch (*p) {
    case '"': {
        bool escaped = false;
        p = string(scan, p, end, escaped);
        kind = escaped ? TokenKind::escaped_string : TokenKind::string;
        return p;
    }
    case '{': kind = TokenKind::object; return container(scan, p, end, '}', depth);
    case '[': kind = TokenKind::array; return container(scan, p, end, ']', depth);
    case 't': kind = TokenKind::true_value; return literal(scan, p, end, "true");
    case 'f': kind = TokenKind::false_value; return literal(scan, p, end, "false");
    case 'n': kind = TokenKind::null; return literal(scan, p, end, "null");
    default: kind = TokenKind::number; return number(scan, p, end);
    }
}

bool object_fields(const char* p, const char* end, std::vector<ScannedField>& fields) {
    RecordScan scan;
    p = skip_json_space(p, end);
    if (p >= end || *p != '{') return false;
    p = skip_json_space(p + 1, end);
    if (p < end && *p == '}') return skip_json_space(p + 1, end) == end;
    for (;;) {
        ScannedField& field = fields.emplace_back();
        const char* key = p;
        bool escaped = false;
        if (p >= end || *p != '"' || !(p = string(scan, p, end, escaped)) || escaped) return false;
        field.raw_key = std::string_view(key, static_cast<std::size_t>(p - key));
        field.key = field.raw_key.substr(1, field.raw_key.size() - 2);
        const char* key_end = p;
        p = skip_json_space(p, end);
        if (p >= end || *p != ':') return false;
        p = skip_json_space(p + 1, end);
        const char* start = p;
        field.tight = start == key_end + 1;
        if (!(p = value(scan, p, end, field.kind, 1))) return false;
        field.raw_value = std::string_view(start, static_cast<std::size_t>(p - start));
        const char* value_end = p;
        p = skip_json_space(p, end);
        if (p >= end) return false;
        if (*p == '}') return skip_json_space(p + 1, end) == end;
        if (*p != ',') return false;
        ++p;
        field.joined = p == value_end + 1 && p < end && *p == '"';
        p = skip_json_space(p, end);
    }
}

}  // namespace

bool scan_object_fields(std::string_view text, std::vector<ScannedField>& fields) {
    return object_fields(text.data(), text.data() + text.size(), fields);
}

JsonSyntax scan_json_syntax(std::string_view text) {
    LocateScan scan;
    const char* begin = text.data();
    const char* end = begin + text.size();
    TokenKind kind;
    if (const char* p = value(scan, skip_json_space(begin, end), end, kind, 0)) {
        p = skip_json_space(p, end);
        if (p != end) scan.fail(p);
    }
    JsonSyntax syntax;
    if (scan.error) syntax.error = static_cast<std::size_t>(scan.error - begin);
    for (const char* at : scan.big_integer_ends)
        syntax.big_integer_ends.push_back(static_cast<std::size_t>(at - begin));
    return syntax;
}

}  // namespace statenet::detail
