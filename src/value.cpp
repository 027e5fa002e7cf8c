// statenet::Value: member access, equality, JSON parsing (simdjson) and JSON output.
#include <statenet/value.hpp>

#include <simdjson.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <limits>
#include <string>
#include <unordered_map>

namespace statenet {

namespace {

[[noreturn]] void throw_type_mismatch(Value::Type expected, Value::Type actual)
{
    std::string message = "statenet::Value: expected ";
    message += type_name(expected);
    message += ", got ";
    message += type_name(actual);
    throw std::logic_error(message);
}

// Exact: converting the integer to double would make 2^63-1 equal 2^63.
bool integer_equals_double(std::int64_t i, double d) noexcept
{
    constexpr double two_to_63 = 9223372036854775808.0;
    if (!(d >= -two_to_63 && d < two_to_63) || std::trunc(d) != d) {
        return false;
    }
    return static_cast<std::int64_t>(d) == i;
}

bool objects_equal(const Value::Object& a, const Value::Object& b) noexcept
{
    if (a.size() != b.size()) {
        return false;
    }
    for (std::size_t i = 0; i < a.size(); ++i) {
        // Members usually come in the same order, so try the same position first.
        if (a[i].first == b[i].first) {
            if (!(a[i].second == b[i].second)) {
                return false;
            }
            continue;
        }
        const auto other = std::find_if(b.begin(), b.end(),
                                        [&](const Value::Member& m) { return m.first == a[i].first; });
        if (other == b.end() || !(a[i].second == other->second)) {
            return false;
        }
    }
    return true;
}

// Length of the well-formed UTF-8 sequence at p (RFC 3629: no overlongs, no
// surrogates, nothing above U+10FFFF), or 0 when the bytes there are not one.
std::size_t utf8_sequence_length(const unsigned char* p, std::size_t available) noexcept
{
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

// ---- JSON input -------------------------------------------------------------

Value to_value(simdjson::dom::element element);

Value to_object(simdjson::dom::object object)
{
    // Small objects search linearly for duplicate keys; large ones would make that
    // quadratic, so they index the keys (views into the parser's string buffer).
    constexpr std::size_t linear_limit = 16;
    const std::size_t count = object.size();
    Value::Object members;
    members.reserve(count);
    std::unordered_map<std::string_view, std::size_t> index;
    if (count > linear_limit) {
        index.reserve(count);
    }
    for (const simdjson::dom::key_value_pair field : object) {
        Value* existing = nullptr;
        if (count > linear_limit) {
            const auto [slot, inserted] = index.try_emplace(field.key, members.size());
            if (!inserted) {
                existing = &members[slot->second].second;
            }
        } else {
            for (auto& member : members) {
                if (member.first == field.key) {
                    existing = &member.second;
                    break;
                }
            }
        }
        // Duplicate keys: the last value wins, at the first key's position.
        if (existing) {
            *existing = to_value(field.value);
        } else {
            members.emplace_back(std::string(field.key), to_value(field.value));
        }
    }
    return Value(std::move(members));
}

Value to_array(simdjson::dom::array array)
{
    Value::Array elements;
    elements.reserve(array.size());
    for (const simdjson::dom::element element : array) {
        elements.push_back(to_value(element));
    }
    return Value(std::move(elements));
}

Value to_value(simdjson::dom::element element)
{
    using simdjson::dom::element_type;
    switch (element.type()) {
    case element_type::ARRAY:
        return to_array(element.get_array().value_unsafe());
    case element_type::OBJECT:
        return to_object(element.get_object().value_unsafe());
    case element_type::INT64:
        return Value(element.get_int64().value_unsafe());
    case element_type::UINT64: {
        const std::uint64_t u = element.get_uint64().value_unsafe();
        if (u <= static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
            return Value(static_cast<std::int64_t>(u));
        }
        return Value(static_cast<double>(u));
    }
    case element_type::DOUBLE:
        return Value(element.get_double().value_unsafe());
    case element_type::STRING:
        return Value(element.get_string().value_unsafe());
    case element_type::BOOL:
        return Value(element.get_bool().value_unsafe());
    case element_type::NULL_VALUE:
        break;
    }
    return Value();
}

simdjson::error_code parse_with_simdjson(std::string_view json, Value& out)
{
    // DOM rather than On Demand: On Demand is compiled into this file for the build's
    // baseline CPU (the scalar fallback on plain x86-64), while the DOM parser picks
    // the best SIMD kernel at run time.
    // The parser keeps its buffers between calls, so parsing a stream of records
    // allocates nothing but the Values. A string_view promises no readable padding
    // past its end, so the parser copies the text into its own padded buffer.
    thread_local simdjson::dom::parser parser;
    const auto parse = [&](simdjson::dom::parser& chosen) {
        simdjson::dom::element root;
        const simdjson::error_code error = chosen.parse(json.data(), json.size()).get(root);
        if (!error) {
            out = to_value(root);
        }
        return error;
    };
    // A huge document gets a parser of its own, so the thread does not keep several
    // times its size allocated afterwards.
    constexpr std::size_t retained_limit = std::size_t{64} << 20;
    if (json.size() > retained_limit) {
        simdjson::dom::parser one_off;
        return parse(one_off);
    }
    return parse(parser);
}

// ---- locating JSON errors -----------------------------------------------------
// simdjson's DOM parser says what is wrong but not where. Errors are rare, so the
// error path re-reads the text with the slow scanners below to find the byte offset.

constexpr std::size_t not_found = std::string_view::npos;

std::size_t first_invalid_utf8(std::string_view text) noexcept
{
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
std::size_t locate_string_error(std::string_view text, simdjson::error_code error) noexcept
{
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

struct grammar_scan {
    std::size_t error = not_found;
    // Ends of integer literals outside [-2^63, 2^64-1], before `error`.
    std::vector<std::size_t> big_integer_ends;
};

// A strict RFC 8259 reader that only validates, mirroring simdjson's limits (depth
// 1024, numbers within double range) so that both agree on where a document fails.
class grammar_scanner {
public:
    explicit grammar_scanner(std::string_view text) : text_(text) {}

    grammar_scan run()
    {
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
    static bool is_delimiter(char c) noexcept
    {
        return is_space(c) || c == ',' || c == ':' || c == '[' || c == ']' || c == '{' || c == '}';
    }

    bool at_end() const noexcept { return pos_ >= text_.size(); }
    char peek() const noexcept { return at_end() ? '\0' : text_[pos_]; }
    bool delimited() const noexcept { return at_end() || is_delimiter(text_[pos_]); }

    bool fail(std::size_t at)
    {
        result_.error = at;
        return false;
    }

    void skip_space() noexcept
    {
        while (!at_end() && is_space(text_[pos_])) {
            ++pos_;
        }
    }

    bool value(int depth)
    {
        switch (peek()) {
        case '[':
            return depth > max_depth ? fail(pos_) : array(depth);
        case '{':
            return depth > max_depth ? fail(pos_) : object(depth);
        case '"':
            return string();
        case 't':
            return literal("true");
        case 'f':
            return literal("false");
        case 'n':
            return literal("null");
        default:
            if (peek() == '-' || is_digit(peek())) {
                return number();
            }
            return fail(pos_);
        }
    }

    bool array(int depth)
    {
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

    bool object(int depth)
    {
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

    bool literal(std::string_view word)
    {
        const std::size_t start = pos_;
        if (text_.substr(pos_, word.size()) != word) {
            return fail(start);
        }
        pos_ += word.size();
        return delimited() ? true : fail(start);
    }

    // The code unit of the \uXXXX escape at `at`, or -1.
    long hex4(std::size_t at) const noexcept
    {
        if (at + 6 > text_.size() || text_[at] != '\\' || text_[at + 1] != 'u') {
            return -1;
        }
        unsigned unit = 0;
        const auto [end, ec] = std::from_chars(text_.data() + at + 2, text_.data() + at + 6, unit, 16);
        return ec == std::errc() && end == text_.data() + at + 6 ? static_cast<long>(unit) : -1;
    }

    bool string()
    {
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

    bool escape()
    {
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

    bool digits() noexcept
    {
        const std::size_t start = pos_;
        while (!at_end() && is_digit(text_[pos_])) {
            ++pos_;
        }
        return pos_ > start;
    }

    bool number()
    {
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

    static bool fits_64_bits(std::string_view token) noexcept
    {
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
    static bool overflows_double(std::string_view token) noexcept
    {
        double d = 0;
        if (std::from_chars(token.data(), token.data() + token.size(), d).ec != std::errc::result_out_of_range) {
            return false;
        }
        return leading_power_of_ten(token) > 0;
    }

    // The power of ten of the first significant digit (saturated), which tells an
    // overflow from an underflow.
    static long long leading_power_of_ten(std::string_view token) noexcept
    {
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

std::size_t locate_error(std::string_view json, simdjson::error_code error)
{
    std::size_t offset = not_found;
    switch (error) {
    case simdjson::UTF8_ERROR:
        offset = first_invalid_utf8(json);
        break;
    case simdjson::UNESCAPED_CHARS:
    case simdjson::UNCLOSED_STRING:
        offset = locate_string_error(json, error);
        break;
    case simdjson::EMPTY:
        offset = json.size();
        break;
    case simdjson::CAPACITY:
    case simdjson::MEMALLOC:
        break;
    default:
        offset = grammar_scanner(json).run().error;
        break;
    }
    // The scanners mirror simdjson, so finding nothing would be a bug; 0 keeps it usable.
    return offset == not_found ? 0 : offset;
}

JsonError json_error(simdjson::error_code error, std::size_t offset)
{
    std::string detail = simdjson::error_message(error);
    // simdjson's messages are sentences ("The JSON document ..."); this one continues one.
    // ("JSON ..." stays as it is.)
    if (detail.size() > 1 && detail[0] >= 'A' && detail[0] <= 'Z' && !(detail[1] >= 'A' && detail[1] <= 'Z')) {
        detail[0] = static_cast<char>(detail[0] - 'A' + 'a');
    }
    return JsonError("invalid JSON at byte " + std::to_string(offset) + ": " + detail, offset);
}

// simdjson 3.0 rejects integer literals beyond 64 bits, but they are valid JSON and
// become numbers here: such a document is re-parsed with ".0" after each of them.
Value parse_with_big_integers(std::string_view json, const grammar_scan& scan)
{
    std::string widened;
    widened.reserve(json.size() + 2 * scan.big_integer_ends.size());
    std::size_t copied = 0;
    for (const std::size_t end : scan.big_integer_ends) {
        widened.append(json, copied, end - copied);
        widened += ".0";
        copied = end;
    }
    widened.append(json, copied);
    Value result;
    const simdjson::error_code error = parse_with_simdjson(widened, result);
    if (error) {
        // The scanner stopped at the first real error, in the caller's coordinates.
        throw json_error(error, scan.error == not_found ? 0 : scan.error);
    }
    return result;
}

// ---- JSON output ----------------------------------------------------------------

class json_writer {
public:
    json_writer(std::string& out, int indent) : out_(out), indent_(indent > 0 ? indent : 0) {}

    void write(const Value& value, int depth)
    {
        switch (value.type()) {
        case Value::Type::null:
            out_ += "null";
            break;
        case Value::Type::boolean:
            out_ += value.as_bool() ? "true" : "false";
            break;
        case Value::Type::integer:
            write_integer(value.as_int());
            break;
        case Value::Type::number:
            write_double(value.as_number());
            break;
        case Value::Type::string:
            write_string(value.as_string());
            break;
        case Value::Type::array:
            write_array(value.as_array(), depth);
            break;
        case Value::Type::object:
            write_object(value.as_object(), depth);
            break;
        }
    }

private:
    void break_line(int depth)
    {
        if (indent_ > 0) {
            out_ += '\n';
            out_.append(static_cast<std::size_t>(depth) * static_cast<std::size_t>(indent_), ' ');
        }
    }

    void write_array(const Value::Array& elements, int depth)
    {
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

    void write_object(const Value::Object& members, int depth)
    {
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

    void write_integer(std::int64_t i)
    {
        char buffer[24];
        const auto result = std::to_chars(buffer, buffer + sizeof buffer, i);
        out_.append(buffer, result.ptr);
    }

    void write_double(double d)
    {
        // JSON has no NaN or Infinity.
        if (!std::isfinite(d)) {
            out_ += "null";
            return;
        }
        char buffer[32];
        const auto result = std::to_chars(buffer, buffer + sizeof buffer, d);
        out_.append(buffer, result.ptr);
        // Integral doubles keep a fraction so they read back as numbers, not integers.
        if (std::find_if(buffer, result.ptr, [](char c) { return c == '.' || c == 'e'; }) == result.ptr) {
            out_ += ".0";
        }
    }

    void write_string(std::string_view s)
    {
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
                if (const std::size_t length = utf8_sequence_length(bytes + i, s.size() - i)) {
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

// ---- Value members ----------------------------------------------------------------

bool Value::as_bool() const
{
    if (const auto* b = std::get_if<bool>(&v_)) {
        return *b;
    }
    throw_type_mismatch(Type::boolean, type());
}

std::int64_t Value::as_int() const
{
    if (const auto* i = std::get_if<std::int64_t>(&v_)) {
        return *i;
    }
    throw_type_mismatch(Type::integer, type());
}

double Value::as_number() const
{
    if (const auto* d = std::get_if<double>(&v_)) {
        return *d;
    }
    if (const auto* i = std::get_if<std::int64_t>(&v_)) {
        return static_cast<double>(*i);
    }
    throw_type_mismatch(Type::number, type());
}

const std::string& Value::as_string() const
{
    if (const auto* s = std::get_if<std::string>(&v_)) {
        return *s;
    }
    throw_type_mismatch(Type::string, type());
}

const Value::Array& Value::as_array() const
{
    if (const auto* a = std::get_if<Array>(&v_)) {
        return *a;
    }
    throw_type_mismatch(Type::array, type());
}

Value::Array& Value::as_array()
{
    if (auto* a = std::get_if<Array>(&v_)) {
        return *a;
    }
    throw_type_mismatch(Type::array, type());
}

const Value::Object& Value::as_object() const
{
    if (const auto* o = std::get_if<Object>(&v_)) {
        return *o;
    }
    throw_type_mismatch(Type::object, type());
}

Value::Object& Value::as_object()
{
    if (auto* o = std::get_if<Object>(&v_)) {
        return *o;
    }
    throw_type_mismatch(Type::object, type());
}

const Value* Value::find(std::string_view key) const noexcept
{
    const auto* members = std::get_if<Object>(&v_);
    if (!members) {
        return nullptr;
    }
    for (const auto& member : *members) {
        if (member.first == key) {
            return &member.second;
        }
    }
    return nullptr;
}

Value* Value::find(std::string_view key) noexcept
{
    return const_cast<Value*>(std::as_const(*this).find(key));
}

Value& Value::operator[](std::string_view key)
{
    if (is_null()) {
        v_ = Object{};
    }
    auto& members = as_object();
    if (Value* existing = find(key)) {
        return *existing;
    }
    return members.emplace_back(std::string(key), Value()).second;
}

const Value& Value::operator[](std::string_view key) const noexcept
{
    static const Value null_value;
    const Value* member = find(key);
    return member ? *member : null_value;
}

void Value::set(std::string_view key, Value value)
{
    (*this)[key] = std::move(value);
}

bool Value::erase(std::string_view key)
{
    // A null Value is an empty object for mutation, as in operator[].
    if (is_null()) {
        return false;
    }
    auto& members = as_object();
    const auto found = std::find_if(members.begin(), members.end(),
                                    [&](const Member& m) { return m.first == key; });
    if (found == members.end()) {
        return false;
    }
    members.erase(found);
    return true;
}

void Value::push_back(Value value)
{
    if (is_null()) {
        v_ = Array{};
    }
    as_array().push_back(std::move(value));
}

std::size_t Value::size() const noexcept
{
    if (const auto* members = std::get_if<Object>(&v_)) {
        return members->size();
    }
    if (const auto* elements = std::get_if<Array>(&v_)) {
        return elements->size();
    }
    return 0;
}

bool operator==(const Value& a, const Value& b) noexcept
{
    const auto* ai = std::get_if<std::int64_t>(&a.v_);
    const auto* bi = std::get_if<std::int64_t>(&b.v_);
    const auto* ad = std::get_if<double>(&a.v_);
    const auto* bd = std::get_if<double>(&b.v_);
    if (ai && bd) {
        return integer_equals_double(*ai, *bd);
    }
    if (ad && bi) {
        return integer_equals_double(*bi, *ad);
    }
    if (a.v_.index() != b.v_.index()) {
        return false;
    }
    if (const auto* ao = std::get_if<Value::Object>(&a.v_)) {
        return objects_equal(*ao, std::get<Value::Object>(b.v_));
    }
    return a.v_ == b.v_;
}

Value Value::from_json(std::string_view json)
{
    Value result;
    const simdjson::error_code error = parse_with_simdjson(json, result);
    if (!error) {
        return result;
    }
    if (error == simdjson::NUMBER_ERROR) {
        grammar_scan scan = grammar_scanner(json).run();
        if (!scan.big_integer_ends.empty()) {
            return parse_with_big_integers(json, scan);
        }
        throw json_error(error, scan.error == not_found ? 0 : scan.error);
    }
    throw json_error(error, locate_error(json, error));
}

std::string Value::to_json(int indent) const
{
    std::string out;
    // Most records are a few hundred bytes; growing from empty would copy them repeatedly.
    if (is_array() || is_object()) {
        out.reserve(256);
    }
    json_writer(out, indent).write(*this, 0);
    return out;
}

std::string_view type_name(Value::Type type) noexcept
{
    switch (type) {
    case Value::Type::null: return "null";
    case Value::Type::boolean: return "boolean";
    case Value::Type::integer: return "integer";
    case Value::Type::number: return "number";
    case Value::Type::string: return "string";
    case Value::Type::array: return "array";
    case Value::Type::object: return "object";
    }
    return "unknown";
}

}  // namespace statenet
