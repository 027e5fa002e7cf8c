// Value::from_json: JSON input through simdjson's DOM parser.
#include <statenet/value.hpp>

#include "json/field_scan.hpp"
#include "json/json_internal.hpp"

#include <fmt/format.h>
#include <simdjson.h>

#include <cstdint>
#include <limits>
#include <new>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>

namespace statenet {

namespace {

// A container nested deeper than max_nesting_depth. simdjson's own limit lets through
// an empty one just past it (see nesting_limited_parser); the conversion stops it here.
struct TooDeep {};

// `level`: the element's level, the document being level 1.
Value to_value(simdjson::dom::element element, int level);

Value to_object(simdjson::dom::object object, int level) {
    if (level > max_nesting_depth) throw TooDeep{};
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
            *existing = to_value(field.value, level + 1);
        } else {
            members.emplace_back(std::string(field.key), to_value(field.value, level + 1));
        }
    }
    return Value(std::move(members));
}

Value to_array(simdjson::dom::array array, int level) {
    if (level > max_nesting_depth) throw TooDeep{};
    Value::Array elements;
    elements.reserve(array.size());
    for (const simdjson::dom::element element : array) {
        elements.push_back(to_value(element, level + 1));
    }
    return Value(std::move(elements));
}

Value to_value(simdjson::dom::element element, int level) {
    using simdjson::dom::element_type;
    switch (element.type()) {
    case element_type::ARRAY: return to_array(element.get_array().value_unsafe(), level);
    case element_type::OBJECT: return to_object(element.get_object().value_unsafe(), level);
    case element_type::INT64: return Value(element.get_int64().value_unsafe());
    case element_type::UINT64: {
        const std::uint64_t u = element.get_uint64().value_unsafe();
        if (u <= static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
            return Value(static_cast<std::int64_t>(u));
        }
        return Value(static_cast<double>(u));
    }
    case element_type::DOUBLE: return Value(element.get_double().value_unsafe());
    case element_type::STRING: return Value(element.get_string().value_unsafe());
    case element_type::BOOL: return Value(element.get_bool().value_unsafe());
    case element_type::NULL_VALUE: break;
    }
    return Value();
}

simdjson::error_code parse_with_simdjson(std::string_view json, Value& out) {
    // DOM rather than On Demand: On Demand is compiled into this file for the build's
    // baseline CPU (the scalar fallback on plain x86-64), while the DOM parser picks
    // the best SIMD kernel at run time.
    // The parser keeps its buffers between calls, so parsing a stream of records
    // allocates nothing but the Values. A string_view promises no readable padding
    // past its end, so the parser copies the text into its own padded buffer.
    thread_local simdjson::dom::parser parser = detail::nesting_limited_parser();
    const auto parse = [&](simdjson::dom::parser& chosen) {
        simdjson::dom::element root;
        const simdjson::error_code error = chosen.parse(json.data(), json.size()).get(root);
        if (!error) {
            out = to_value(root, 1);
        }
        return error;
    };
    // A huge document gets a parser of its own, so the thread does not keep several
    // times its size allocated afterwards.
    constexpr std::size_t retained_limit = std::size_t{64} << 20;
    if (json.size() > retained_limit) {
        simdjson::dom::parser one_off = detail::nesting_limited_parser();
        return parse(one_off);
    }
    return parse(parser);
}

// The offsets of errors simdjson finds in its first pass over the whole text, before
// it checks the grammar: invalid UTF-8 anywhere, and control characters and unclosed
// strings as its quote mask sees them (a backslash escapes the next byte even outside
// strings, and every other quote toggles in and out of a string).
std::size_t first_invalid_utf8(std::string_view text) noexcept {
    const auto* bytes = reinterpret_cast<const unsigned char*>(text.data());
    for (std::size_t i = 0; i < text.size();) {
        const std::size_t length = detail::utf8_sequence_length(bytes + i, text.size() - i);
        if (length == 0) {
            return i;
        }
        i += length;
    }
    return std::string_view::npos;
}

std::size_t string_mask_error(std::string_view text, simdjson::error_code error) noexcept {
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
    return in_string ? opened : std::string_view::npos;
}

// Where the scans found the error; they mirror simdjson, so finding none would be a
// bug, and 0 keeps the message usable.
std::size_t known_offset(std::size_t offset) { return offset == std::string_view::npos ? 0 : offset; }

// The byte offset of the error simdjson reported for json. simdjson's DOM parser says
// what is wrong but not where; errors are rare, so this reads the text again, slowly.
std::size_t error_offset(std::string_view json, simdjson::error_code error) {
    switch (error) {
    case simdjson::UTF8_ERROR: return known_offset(first_invalid_utf8(json));
    case simdjson::UNESCAPED_CHARS:
    case simdjson::UNCLOSED_STRING: return known_offset(string_mask_error(json, error));
    case simdjson::EMPTY: return json.size();
    case simdjson::CAPACITY:
    case simdjson::MEMALLOC: return 0;
    default: return known_offset(detail::scan_json_syntax(json).error);
    }
}

JsonError json_error(simdjson::error_code error, std::size_t offset) {
    if (error == simdjson::DEPTH_ERROR)
        return JsonError(
            fmt::format("invalid JSON at byte {}: nested deeper than {} levels", offset, max_nesting_depth), offset);
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
Value parse_with_big_integers(std::string_view json, const detail::JsonSyntax& scan) {
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
    if (error == simdjson::DEPTH_ERROR) throw json_error(error, known_offset(detail::nesting_error_offset(json)));
    if (error) {
        // The scanner stopped at the first real error, in the caller's coordinates.
        throw json_error(error, known_offset(scan.error));
    }
    return result;
}

Value parse_document(std::string_view json) {
    Value result;
    const simdjson::error_code error = parse_with_simdjson(json, result);
    if (!error) {
        return result;
    }
    if (error == simdjson::NUMBER_ERROR) {
        detail::JsonSyntax scan = detail::scan_json_syntax(json);
        if (!scan.big_integer_ends.empty()) {
            return parse_with_big_integers(json, scan);
        }
        throw json_error(error, known_offset(scan.error));
    }
    if (error == simdjson::DEPTH_ERROR) throw json_error(error, known_offset(detail::nesting_error_offset(json)));
    throw json_error(error, error_offset(json, error));
}

}  // namespace

Value detail::element_to_value(simdjson::dom::element element) {
    try {
        return to_value(element, 1);
    } catch (const TooDeep&) {
        throw JsonError(fmt::format("nested deeper than {} levels", max_nesting_depth), 0);
    }
}

simdjson::dom::parser detail::nesting_limited_parser() {
    simdjson::dom::parser parser;
    // simdjson counts a scalar as a level of its own (with a limit of 4, `[[[[]]]]`
    // parses and `[[[[1]]]]` does not): one more lets every container up to the limit
    // hold values. An empty container one level too deep still gets through, and the
    // conversions refuse it. Capacity grows with the first document; the limit stays.
    if (parser.allocate(0, max_nesting_depth + 1) != simdjson::SUCCESS) throw std::bad_alloc();
    return parser;
}

std::size_t detail::nesting_error_offset(std::string_view json) noexcept {
    int level = 0;
    for (std::size_t i = 0; i < json.size(); ++i) {
        switch (json[i]) {
        case '"':
            for (++i; i < json.size() && json[i] != '"'; ++i)
                if (json[i] == '\\') ++i;
            break;
        case '[':
        case '{':
            if (++level > max_nesting_depth) return i;
            break;
        case ']':
        case '}': --level; break;
        default: break;
        }
    }
    return std::string_view::npos;
}

Value Value::from_json(std::string_view json) {
    try {
        return parse_document(json);
    } catch (const TooDeep&) {
        throw json_error(simdjson::DEPTH_ERROR, detail::nesting_error_offset(json));
    }
}

}  // namespace statenet
