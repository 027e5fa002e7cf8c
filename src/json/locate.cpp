// Locating JSON syntax errors: the byte offset of what simdjson rejected, found by
// re-reading the text with slow strict scanners.
#include "json/json_internal.hpp"

#include <simdjson.h>

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <limits>
#include <string_view>
#include <system_error>
#include <utility>

namespace statenet::detail {

namespace {

std::size_t first_invalid_utf8(std::string_view text) noexcept {
    const auto* bytes = reinterpret_cast<const unsigned char*>(text.data());
    for (std::size_t i = 0; i < text.size();) {
        const std::size_t length = utf8_sequence_length(bytes + i, text.size() - i);
        if (length == 0) {
            return i;
        }
        i += length;
    }
    return not_found;
}

// simdjson finds unescaped control characters and unclosed strings in a first pass
// over the whole text, before it checks the grammar, so they are located the same
// way: a backslash escapes the next byte even outside strings, and every other quote
// toggles in and out of a string.
std::size_t locate_string_error(std::string_view text, simdjson::error_code error) noexcept {
    const auto is_control = [&](std::size_t i) { return static_cast<unsigned char>(text[i]) < 0x20; };
    bool in_string = false;
    std::size_t opened = 0;
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (text[i] == '\\') {
            ++i;
            if (in_string && i < text.size() && is_control(i) && error == simdjson::UNESCAPED_CHARS) {
                return i;
            }
        } else if (text[i] == '"') {
            in_string = !in_string;
            opened = i;
        } else if (in_string && is_control(i) && error == simdjson::UNESCAPED_CHARS) {
            return i;
        }
    }
    return in_string ? opened : not_found;
}

// A strict RFC 8259 reader that only validates, mirroring simdjson's limits (depth
// 1024, numbers within double range) so that both agree on where a document fails.
class grammar_scanner {
public:
    explicit grammar_scanner(std::string_view text) : text_(text) {}

    grammar_scan run() {
        skip_space();
        if (value(1)) {
            skip_space();
            if (pos_ != text_.size()) {
                fail(pos_);
            }
        }
        return std::move(result_);
    }

private:
    static constexpr int max_depth = 1024;

    static bool is_space(char c) noexcept { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }
    static bool is_digit(char c) noexcept { return c >= '0' && c <= '9'; }
    // What may follow a number or a literal without gluing onto it.
    static bool is_delimiter(char c) noexcept {
        return is_space(c) || c == ',' || c == ':' || c == '[' || c == ']' || c == '{' || c == '}';
    }

    bool at_end() const noexcept { return pos_ >= text_.size(); }
    char peek() const noexcept { return at_end() ? '\0' : text_[pos_]; }
    bool delimited() const noexcept { return at_end() || is_delimiter(text_[pos_]); }

    bool fail(std::size_t at) {
        result_.error = at;
        return false;
    }

    void skip_space() noexcept {
        while (!at_end() && is_space(text_[pos_])) {
            ++pos_;
        }
    }

    bool value(int depth) {
        switch (peek()) {
        case '[': return depth > max_depth ? fail(pos_) : array(depth);
        case '{': return depth > max_depth ? fail(pos_) : object(depth);
        case '"': return string();
        case 't': return literal("true");
        case 'f': return literal("false");
        case 'n': return literal("null");
        default:
            if (peek() == '-' || is_digit(peek())) {
                return number();
            }
            return fail(pos_);
        }
    }

    bool array(int depth) {
        ++pos_;
        skip_space();
        if (peek() == ']') {
            ++pos_;
            return true;
        }
        for (;;) {
            if (!value(depth + 1)) {
                return false;
            }
            skip_space();
            if (peek() == ']') {
                ++pos_;
                return true;
            }
            if (peek() != ',') {
                return fail(pos_);
            }
            ++pos_;
            skip_space();
        }
    }

    bool object(int depth) {
        ++pos_;
        skip_space();
        if (peek() == '}') {
            ++pos_;
            return true;
        }
        for (;;) {
            if (peek() != '"') {
                return fail(pos_);
            }
            if (!string()) {
                return false;
            }
            skip_space();
            if (peek() != ':') {
                return fail(pos_);
            }
            ++pos_;
            skip_space();
            if (!value(depth + 1)) {
                return false;
            }
            skip_space();
            if (peek() == '}') {
                ++pos_;
                return true;
            }
            if (peek() != ',') {
                return fail(pos_);
            }
            ++pos_;
            skip_space();
        }
    }

    bool literal(std::string_view word) {
        const std::size_t start = pos_;
        if (text_.substr(pos_, word.size()) != word) {
            return fail(start);
        }
        pos_ += word.size();
        return delimited() ? true : fail(start);
    }

    // The code unit of the \uXXXX escape at `at`, or -1.
    long hex4(std::size_t at) const noexcept {
        if (at + 6 > text_.size() || text_[at] != '\\' || text_[at + 1] != 'u') {
            return -1;
        }
        unsigned unit = 0;
        const auto [end, ec] = std::from_chars(text_.data() + at + 2, text_.data() + at + 6, unit, 16);
        return ec == std::errc() && end == text_.data() + at + 6 ? static_cast<long>(unit) : -1;
    }

    bool string() {
        const std::size_t start = pos_++;
        for (;;) {
            if (at_end()) {
                return fail(start);
            }
            const auto c = static_cast<unsigned char>(text_[pos_]);
            if (c == '"') {
                ++pos_;
                return true;
            }
            if (c < 0x20) {
                return fail(pos_);
            }
            if (c != '\\') {
                ++pos_;
                continue;
            }
            if (!escape()) {
                return false;
            }
        }
    }

    bool escape() {
        const std::size_t at = pos_;
        const char kind = at + 1 < text_.size() ? text_[at + 1] : '\0';
        if (kind != 'u') {
            if (kind == '\0' || std::string_view("\"\\/bfnrt").find(kind) == std::string_view::npos) {
                return fail(at);
            }
            pos_ += 2;
            return true;
        }
        const long unit = hex4(at);
        if (unit < 0 || (unit >= 0xDC00 && unit <= 0xDFFF)) {
            return fail(at);
        }
        pos_ += 6;
        if (unit >= 0xD800 && unit <= 0xDBFF) {
            const long low = hex4(pos_);
            if (low < 0xDC00 || low > 0xDFFF) {
                return fail(at);
            }
            pos_ += 6;
        }
        return true;
    }

    bool digits() noexcept {
        const std::size_t start = pos_;
        while (!at_end() && is_digit(text_[pos_])) {
            ++pos_;
        }
        return pos_ > start;
    }

    bool number() {
        const std::size_t start = pos_;
        if (peek() == '-') {
            ++pos_;
        }
        if (peek() == '0') {
            ++pos_;
        } else if (!digits()) {
            return fail(start);
        }
        bool integral = true;
        if (peek() == '.') {
            ++pos_;
            integral = false;
            if (!digits()) {
                return fail(start);
            }
        }
        if (peek() == 'e' || peek() == 'E') {
            ++pos_;
            integral = false;
            if (peek() == '+' || peek() == '-') {
                ++pos_;
            }
            if (!digits()) {
                return fail(start);
            }
        }
        if (!delimited()) {
            return fail(start);
        }
        const std::string_view token = text_.substr(start, pos_ - start);
        if (integral) {
            if (!fits_64_bits(token)) {
                result_.big_integer_ends.push_back(pos_);
            }
            return true;
        }
        return overflows_double(token) ? fail(start) : true;
    }

    static bool fits_64_bits(std::string_view token) noexcept {
        const char* first = token.data();
        const char* last = token.data() + token.size();
        if (token.front() == '-') {
            std::int64_t i = 0;
            return std::from_chars(first, last, i).ec == std::errc();
        }
        std::uint64_t u = 0;
        return std::from_chars(first, last, u).ec == std::errc();
    }

    // simdjson rejects numbers beyond the double range but rounds tiny ones to zero.
    static bool overflows_double(std::string_view token) noexcept {
        double d = 0;
        if (std::from_chars(token.data(), token.data() + token.size(), d).ec != std::errc::result_out_of_range) {
            return false;
        }
        return leading_power_of_ten(token) > 0;
    }

    // The power of ten of the first significant digit (saturated), which tells an
    // overflow from an underflow.
    static long long leading_power_of_ten(std::string_view token) noexcept {
        std::size_t i = token.front() == '-' ? 1 : 0;
        long long integer_digits = -1;  // set at the decimal point
        long long first_significant = -1;
        long long mantissa_digits = 0;
        for (; i < token.size() && token[i] != 'e' && token[i] != 'E'; ++i) {
            if (token[i] == '.') {
                integer_digits = mantissa_digits;
                continue;
            }
            if (first_significant < 0 && token[i] != '0') {
                first_significant = mantissa_digits;
            }
            ++mantissa_digits;
        }
        if (integer_digits < 0) {
            integer_digits = mantissa_digits;
        }
        if (first_significant < 0) {
            return std::numeric_limits<long long>::min();
        }
        long long exponent = 0;
        long long sign = 1;
        for (++i; i < token.size(); ++i) {
            if (token[i] == '-') {
                sign = -1;
            } else if (token[i] != '+') {
                exponent = std::min(exponent * 10 + (token[i] - '0'), 1'000'000'000'000LL);
            }
        }
        return sign * exponent + integer_digits - 1 - first_significant;
    }

    std::string_view text_;
    std::size_t pos_ = 0;
    grammar_scan result_;
};

}  // namespace

grammar_scan scan_grammar(std::string_view json) { return grammar_scanner(json).run(); }

std::size_t locate_error(std::string_view json, simdjson::error_code error) {
    std::size_t offset = not_found;
    switch (error) {
    case simdjson::UTF8_ERROR: offset = first_invalid_utf8(json); break;
    case simdjson::UNESCAPED_CHARS:
    case simdjson::UNCLOSED_STRING: offset = locate_string_error(json, error); break;
    case simdjson::EMPTY: offset = json.size(); break;
    case simdjson::CAPACITY:
    case simdjson::MEMALLOC: break;
    default: offset = grammar_scanner(json).run().error; break;
    }
    // The scanners mirror simdjson, so finding nothing would be a bug; 0 keeps it usable.
    return offset == not_found ? 0 : offset;
}

}  // namespace statenet::detail
