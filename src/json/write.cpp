// Value::to_json: compact or indented JSON output that is always valid JSON.
#include <statenet/value.hpp>

#include "json/json_internal.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <string>
#include <string_view>

namespace statenet {

namespace {

// A non-integral double with at most 4 decimals (prices, rates, amounts) written as
// those decimals, without std::to_chars' general shortest-digits search; the text is
// the same as to_chars'. Returns the end of the text in `out`, or nullptr when `d` is
// not such a number.
//
// Why the same: with k decimals and r = d * 10^k below 2^52, the double division
// r / 10^k rounds the exact decimal r * 10^-k; when that gives d back, the decimal
// reads back as d, and it is the only k-decimal one that does (d's ulp is below
// 10^-k), so with the smallest such k it is the shortest round-trip form. to_chars
// writes it in fixed notation unless the scientific one is shorter.
char* short_decimal(double d, char* out) {
    static constexpr double scale[] = {1, 10, 100, 1000, 10000};
    const double a = std::fabs(d);
    if (!(a < 1e11) || a == std::floor(a)) {
        return nullptr;
    }
    for (int k = 1; k <= 4; ++k) {
        const double r = std::nearbyint(a * scale[k]);
        if (r >= 4503599627370496.0) {  // 2^52
            return nullptr;
        }
        if (r / scale[k] != a) {
            continue;
        }
        char digits[20];  // least significant first
        int length = 0;
        for (auto n = static_cast<std::uint64_t>(r); n != 0; n /= 10) {
            digits[length++] = static_cast<char>('0' + n % 10);
        }
        const int significant = length;
        while (length < k + 1) {
            digits[length++] = '0';  // 0.05: the integer part and leading fraction zeros
        }
        const int fixed = length + 1;
        const int scientific = significant + (significant > 1 ? 1 : 0) + 4;  // d.ddde-XX
        if (scientific < fixed) {
            return nullptr;
        }
        if (d < 0) {
            *out++ = '-';
        }
        for (int i = length - 1; i >= 0; --i) {
            *out++ = digits[i];
            if (i == k) {
                *out++ = '.';
            }
        }
        return out;
    }
    return nullptr;
}

class json_writer {
public:
    json_writer(std::string& out, int indent) : out_(out), indent_(indent > 0 ? indent : 0) {}

    void write(const Value& value, int depth) {
        switch (value.type()) {
        case Value::Type::null: out_ += "null"; break;
        case Value::Type::boolean: out_ += value.as_bool() ? "true" : "false"; break;
        case Value::Type::integer: write_integer(value.as_int()); break;
        case Value::Type::number: write_double(value.as_number()); break;
        case Value::Type::string: write_string(value.as_string()); break;
        case Value::Type::array: write_array(value.as_array(), depth); break;
        case Value::Type::object: write_object(value.as_object(), depth); break;
        }
    }

private:
    void break_line(int depth) {
        if (indent_ > 0) {
            out_ += '\n';
            out_.append(static_cast<std::size_t>(depth) * static_cast<std::size_t>(indent_), ' ');
        }
    }

    void write_array(const Value::Array& elements, int depth) {
        if (elements.empty()) {
            out_ += "[]";
            return;
        }
        out_ += '[';
        for (std::size_t i = 0; i < elements.size(); ++i) {
            if (i > 0) {
                out_ += ',';
            }
            break_line(depth + 1);
            write(elements[i], depth + 1);
        }
        break_line(depth);
        out_ += ']';
    }

    void write_object(const Value::Object& members, int depth) {
        if (members.empty()) {
            out_ += "{}";
            return;
        }
        out_ += '{';
        for (std::size_t i = 0; i < members.size(); ++i) {
            if (i > 0) {
                out_ += ',';
            }
            break_line(depth + 1);
            write_string(members[i].first);
            out_ += indent_ > 0 ? ": " : ":";
            write(members[i].second, depth + 1);
        }
        break_line(depth);
        out_ += '}';
    }

    void write_integer(std::int64_t i) {
        char buffer[24];
        const auto result = std::to_chars(buffer, buffer + sizeof buffer, i);
        out_.append(buffer, result.ptr);
    }

    void write_double(double d) {
        // JSON has no NaN or Infinity.
        if (!std::isfinite(d)) {
            out_ += "null";
            return;
        }
        char buffer[32];
        if (char* end = short_decimal(d, buffer)) {
            out_.append(buffer, end);
            return;
        }
        const auto result = std::to_chars(buffer, buffer + sizeof buffer, d);
        out_.append(buffer, result.ptr);
        // Integral doubles keep a fraction so they read back as numbers, not integers.
        if (std::find_if(buffer, result.ptr, [](char c) { return c == '.' || c == 'e'; }) == result.ptr) {
            out_ += ".0";
        }
    }

public:
    void write_string(std::string_view s) {
        static constexpr char hex[] = "0123456789abcdef";
        const auto* bytes = reinterpret_cast<const unsigned char*>(s.data());
        out_ += '"';
        std::size_t run_start = 0;
        std::size_t i = 0;
        while (i < s.size()) {
            const unsigned char c = bytes[i];
            const byte_class kind = byte_classes[c];
            if (kind == byte_class::plain) {
                ++i;
                continue;
            }
            if (kind == byte_class::non_ascii) {
                if (const std::size_t length = detail::utf8_sequence_length(bytes + i, s.size() - i)) {
                    i += length;
                    continue;
                }
            }
            out_.append(s.data() + run_start, i - run_start);
            switch (c) {
            case '"': out_ += "\\\""; break;
            case '\\': out_ += "\\\\"; break;
            case '\b': out_ += "\\b"; break;
            case '\f': out_ += "\\f"; break;
            case '\n': out_ += "\\n"; break;
            case '\r': out_ += "\\r"; break;
            case '\t': out_ += "\\t"; break;
            default:
                if (c < 0x20) {
                    const char escaped[] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 0xF]};
                    out_.append(escaped, sizeof escaped);
                } else {
                    // Not UTF-8 (binary from C++ or Lua): the output must stay valid JSON.
                    out_ += "\\ufffd";
                }
                break;
            }
            ++i;
            run_start = i;
        }
        out_.append(s.data() + run_start, s.size() - run_start);
        out_ += '"';
    }

private:
    enum class byte_class : unsigned char { plain, escape, non_ascii };

    static constexpr std::array<byte_class, 256> byte_classes = [] {
        std::array<byte_class, 256> classes{};
        for (std::size_t c = 0; c < classes.size(); ++c) {
            classes[c] = c < 0x20 || c == '"' || c == '\\' ? byte_class::escape
                         : c >= 0x80                       ? byte_class::non_ascii
                                                           : byte_class::plain;
        }
        return classes;
    }();

    std::string& out_;
    int indent_;
};

}  // namespace

namespace detail {

void append_json(std::string& out, const Value& value) { json_writer(out, 0).write(value, 0); }

void append_json_string(std::string& out, std::string_view text) { json_writer(out, 0).write_string(text); }

}  // namespace detail

std::string Value::to_json(int indent) const {
    std::string out;
    // Most records are a few hundred bytes; growing from empty would copy them repeatedly.
    if (is_array() || is_object()) {
        out.reserve(256);
    }
    json_writer(out, indent).write(*this, 0);
    return out;
}

}  // namespace statenet
