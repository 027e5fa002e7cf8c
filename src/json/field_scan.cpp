// scan_object_fields: a hand-written strict JSON scanner that records where top-level
// fields are. It exists because the record path needs token positions, which
// simdjson's DOM does not keep, and a scan that only finds them costs less than a parse.
#include "json/field_scan.hpp"

#include "json/json_internal.hpp"

#include <array>
#include <charconv>
#include <cstdint>

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

// The scanner's steps take the position and return the one past what they read, or
// nullptr when the text is not what they expect. Positions are locals and arguments,
// never members: stores through `char` pointers may alias a member, which would make
// the compiler reload it around every byte.

inline const char* literal(const char* p, const char* end, std::string_view word) {
    if (static_cast<std::size_t>(end - p) < word.size() || std::string_view(p, word.size()) != word) return nullptr;
    return p + word.size();
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
const char* escape(const char* p, const char* end) {
    if (end - p < 2) return nullptr;
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
    default: return nullptr;
    }
    const int unit = unicode_unit(p, end);
    if (unit < 0 || (unit >= 0xDC00 && unit <= 0xDFFF)) return nullptr;
    if (unit >= 0xD800 && unit <= 0xDBFF) {
        const int low = unicode_unit(p, end);
        if (low < 0xDC00 || low > 0xDFFF) return nullptr;
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

// At the opening quote; returns past the closing one.
const char* string(const char* p, const char* end, bool& escaped) {
    ++p;
    for (;;) {
        p = plain_run(p, end);
        if (p >= end) return nullptr;
        const auto c = static_cast<unsigned char>(*p);
        if (c == '"') return p + 1;
        if (c == '\\') {
            escaped = true;
            p = escape(p, end);
            if (!p) return nullptr;
        } else if (c >= 0x80) {
            const std::size_t n =
                utf8_sequence_length(reinterpret_cast<const unsigned char*>(p), static_cast<std::size_t>(end - p));
            if (n == 0) return nullptr;
            p += n;
        } else {
            return nullptr;  // a control character
        }
    }
}

const char* number(const char* p, const char* end) {
    const char* start = p;
    const bool negative = *p == '-';
    if (negative) ++p;
    if (p < end && *p == '0') {
        ++p;
    } else {
        if (p >= end || *p < '1' || *p > '9') return nullptr;
        while (p < end && is_digit(*p)) ++p;
    }
    bool integer = true, exponent = false;
    if (p < end && *p == '.') {
        integer = false;
        if (++p >= end || !is_digit(*p)) return nullptr;
        while (p < end && is_digit(*p)) ++p;
    }
    if (p < end && (*p == 'e' || *p == 'E')) {
        integer = false;
        exponent = true;
        ++p;
        if (p < end && (*p == '+' || *p == '-')) ++p;
        if (p >= end || !is_digit(*p)) return nullptr;
        while (p < end && is_digit(*p)) ++p;
    }
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
        return fits ? p : nullptr;
    }
    if (!integer && (exponent || length > 300)) {
        double d = 0;
        if (std::from_chars(start, p, d).ec != std::errc()) return nullptr;
    }
    return p;
}

const char* value(const char* p, const char* end, TokenKind& kind, int depth);

// At '{' or '['; returns past the matching `close`.
const char* container(const char* p, const char* end, char close, int depth) {
    if (depth >= scan_max_depth) return nullptr;
    const bool object = close == '}';
    p = skip_json_space(p + 1, end);
    if (p < end && *p == close) return p + 1;
    for (;;) {
        TokenKind kind;
        if (object) {
            bool escaped = false;
            if (p >= end || *p != '"' || !(p = string(p, end, escaped))) return nullptr;
            p = skip_json_space(p, end);
            if (p >= end || *p != ':') return nullptr;
            p = skip_json_space(p + 1, end);
        }
        if (!(p = value(p, end, kind, depth + 1))) return nullptr;
        p = skip_json_space(p, end);
        if (p >= end) return nullptr;
        if (*p == close) return p + 1;
        if (*p != ',') return nullptr;
        p = skip_json_space(p + 1, end);
    }
}

const char* value(const char* p, const char* end, TokenKind& kind, int depth) {
    if (p >= end) return nullptr;
    switch (*p) {
    case '"': {
        bool escaped = false;
        p = string(p, end, escaped);
        kind = escaped ? TokenKind::escaped_string : TokenKind::string;
        return p;
    }
    case '{': kind = TokenKind::object; return container(p, end, '}', depth);
    case '[': kind = TokenKind::array; return container(p, end, ']', depth);
    case 't': kind = TokenKind::true_value; return literal(p, end, "true");
    case 'f': kind = TokenKind::false_value; return literal(p, end, "false");
    case 'n': kind = TokenKind::null; return literal(p, end, "null");
    default: kind = TokenKind::number; return number(p, end);
    }
}

bool object_fields(const char* p, const char* end, std::vector<ScannedField>& fields) {
    p = skip_json_space(p, end);
    if (p >= end || *p != '{') return false;
    p = skip_json_space(p + 1, end);
    if (p < end && *p == '}') return skip_json_space(p + 1, end) == end;
    for (;;) {
        ScannedField& field = fields.emplace_back();
        const char* key = p;
        bool escaped = false;
        if (p >= end || *p != '"' || !(p = string(p, end, escaped)) || escaped) return false;
        field.raw_key = std::string_view(key, static_cast<std::size_t>(p - key));
        field.key = field.raw_key.substr(1, field.raw_key.size() - 2);
        const char* key_end = p;
        p = skip_json_space(p, end);
        if (p >= end || *p != ':') return false;
        p = skip_json_space(p + 1, end);
        const char* start = p;
        field.tight = start == key_end + 1;
        if (!(p = value(p, end, field.kind, 1))) return false;
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

}  // namespace statenet::detail
