// JsonRecord: simdjson's DOM of one record, its top-level fields indexed for Lua.
#include "lua/json_record.hpp"

#include "json/field_scan.hpp"
#include "json/json_internal.hpp"

#include <fmt/format.h>
#include <simdjson.h>

#include <array>
#include <charconv>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

namespace statenet::detail {

namespace {

// Beyond this many fields, lookups and the duplicate check use a hash index.
constexpr std::size_t linear_limit = 16;

// A scanned number token's value. Integers of up to 15 digits (ids, counts) are exact
// in a double and are read directly; the rest goes through from_chars.
inline double token_number(std::string_view token) {
    const char* p = token.data();
    const char* end = p + token.size();
    const bool negative = *p == '-';
    const char* digits = p + (negative ? 1 : 0);
    if (end - digits <= 15) {
        std::uint64_t value = 0;
        const char* q = digits;
        while (q < end && *q >= '0' && *q <= '9') value = value * 10 + static_cast<std::uint64_t>(*q++ - '0');
        if (q == end) return negative ? -static_cast<double>(value) : static_cast<double>(value);
    }
    double value = 0;
    std::from_chars(p, end, value);
    return value;
}

// Keys compared by length and first byte before memcmp: most pairs differ there.
inline bool same_key(std::string_view a, std::string_view b) {
    return a.size() == b.size() && (a.empty() || (a[0] == b[0] && std::memcmp(a.data(), b.data(), a.size()) == 0));
}

// `level`: how deep the element is, the record being level 1 (see max_nesting_depth).
void push_element(lua_State* L, simdjson::dom::element element, const ConvertRefs& refs, int level) {
    using simdjson::dom::element_type;
    switch (element.type()) {
    case element_type::INT64: lua_pushnumber(L, static_cast<lua_Number>(element.get_int64().value_unsafe())); return;
    case element_type::UINT64: lua_pushnumber(L, static_cast<lua_Number>(element.get_uint64().value_unsafe())); return;
    case element_type::DOUBLE: lua_pushnumber(L, element.get_double().value_unsafe()); return;
    case element_type::STRING: {
        const std::string_view s = element.get_string().value_unsafe();
        lua_pushlstring(L, s.data(), s.size());
        return;
    }
    case element_type::BOOL: lua_pushboolean(L, element.get_bool().value_unsafe()); return;
    case element_type::NULL_VALUE: lua_pushnil(L); return;
    case element_type::ARRAY:
    case element_type::OBJECT: break;
    }
    if (level > max_nesting_depth)
        throw ConvertError(fmt::format("record is nested deeper than {} levels", max_nesting_depth));
    luaL_checkstack(L, 4, "statenet: record too deep");
    if (element.type() == element_type::ARRAY) {
        const auto array = element.get_array().value_unsafe();
        lua_createtable(L, static_cast<int>(array.size()), 0);
        int i = 1;
        for (const simdjson::dom::element item : array) {
            // null keeps its place in an array as statenet.null (nil would end it).
            if (item.is_null()) lua_pushlightuserdata(L, nullptr);
            else push_element(L, item, refs, level + 1);
            lua_rawseti(L, -2, i++);
        }
        if (i == 1) {
            lua_rawgeti(L, LUA_REGISTRYINDEX, refs.array_mt);
            lua_setmetatable(L, -2);
        }
        return;
    }
    const auto object = element.get_object().value_unsafe();
    lua_createtable(L, 0, static_cast<int>(object.size()));
    for (const simdjson::dom::key_value_pair field : object) {
        if (field.value.is_null()) continue;
        lua_pushlstring(L, field.key.data(), field.key.size());
        push_element(L, field.value, refs, level + 1);
        lua_rawset(L, -3);
    }
}

// Token scanning over text simdjson has already validated (a record the strict scan
// left to simdjson), so nothing here checks the grammar. Pointers run to `end`; memchr
// finds quotes a word at a time.

// Past the closing quote of the string token whose opening quote is at p.
const char* string_end(const char* p, const char* end) {
    for (;;) {
        const auto* quote = static_cast<const char*>(std::memchr(p + 1, '"', static_cast<std::size_t>(end - p - 1)));
        if (!quote) return end;
        const char* back = quote;
        while (back[-1] == '\\') --back;  // an odd run of backslashes escapes the quote
        if ((quote - back) % 2 == 0) return quote + 1;
        p = quote;
    }
}

// Past the value token starting at p.
const char* value_end(const char* p, const char* end) {
    if (*p == '"') return string_end(p, end);
    if (*p != '{' && *p != '[') {
        while (p < end && !is_json_space(*p) && *p != ',' && *p != '}' && *p != ']') ++p;
        return p;
    }
    int depth = 0;
    for (; p < end; ++p) {
        const char c = *p;
        if (c == '"') p = string_end(p, end) - 1;
        else if (c == '{' || c == '[') ++depth;
        else if ((c == '}' || c == ']') && --depth == 0) return p + 1;
    }
    return p;
}

}  // namespace

// Two ways in. Most records take the strict scan (scan_object_fields): it finds every
// top-level field's tokens, scalars are decoded from the text when Lua reads them, and
// simdjson's DOM is parsed only when something needs it (a nested value, an escaped
// string, the whole record). A record the scan leaves aside (escaped keys, deep
// nesting, malformed text) is parsed by simdjson at once: its fields come from the
// DOM and their tokens are located after.
struct JsonRecord::Impl {
    simdjson::dom::parser parser = nesting_limited_parser();
    std::string_view text;
    std::vector<ScannedField> fields;
    std::vector<simdjson::dom::element> values;               // by field, once the DOM is parsed
    std::unordered_map<std::string_view, std::size_t> index;  // only beyond linear_limit
    simdjson::dom::element root;                              // the record's object, once the DOM is parsed
    bool dom = false;                                         // root and values are set
    bool dom_fields = false;  // the fields came from the DOM: values are read through it
    // Where a key was found last, by the address of its text: Lua passes the same
    // interned strings record after record, and records of a stream mostly share
    // their field order, so a lookup is usually one comparison. Two ways per bucket,
    // by a hash of the whole address: where the strings lie differs from process to
    // process, and with one way two hot keys sharing a bucket (for ten keys, about
    // every other process) searched the fields on each read of either.
    struct Hint {
        const char* key = nullptr;
        std::size_t index = 0;
    };
    static constexpr int hint_bits = 6;
    std::array<std::array<Hint, 2>, std::size_t{1} << hint_bits> hints{};

    std::array<Hint, 2>& hint_bucket(const char* key) noexcept {
        return hints[(reinterpret_cast<std::uintptr_t>(key) * 0x9E3779B97F4A7C15ULL) >> (64 - hint_bits)];
    }

    // The DOM of a scanned record. The scan is at least as strict as simdjson, so this
    // does not fail for a record that scanned; if it ever did, the record fails.
    void need_dom() {
        if (dom) return;
        if (parser.parse(text.data(), text.size()).get(root) || !root.is_object())
            throw ConvertError("the record's JSON text could not be read back");
        values.clear();
        const auto object = root.get_object().value_unsafe();
        for (const simdjson::dom::key_value_pair field : object) values.push_back(field.value);
        if (values.size() != fields.size()) throw ConvertError("the record's JSON text could not be read back");
        dom = true;
    }

    bool parse_dom() {
        fields.clear();
        if (parser.parse(text.data(), text.size()).get(root) || !root.is_object()) return false;
        const auto object = root.get_object().value_unsafe();
        for (const simdjson::dom::key_value_pair field : object) {
            fields.emplace_back().key = field.key;
            values.push_back(field.value);
        }
        dom = dom_fields = true;
        locate();
        return true;
    }

    // The token spans of each field, in the DOM's field order.
    void locate() {
        const char* end = text.data() + text.size();
        const char* p = skip_json_space(text.data(), end) + 1;  // past '{'
        ScannedField* previous = nullptr;
        for (auto& field : fields) {
            const char* after = p;
            p = skip_json_space(p, end);
            if (*p == ',') p = skip_json_space(p + 1, end);
            if (previous) previous->joined = p == after + 1;
            const char* key_end = string_end(p, end);
            field.raw_key = std::string_view(p, static_cast<std::size_t>(key_end - p));
            p = skip_json_space(skip_json_space(key_end, end) + 1, end);  // past ':'
            const char* value = p;
            field.tight = value == key_end + 1;
            p = value_end(p, end);
            field.raw_value = std::string_view(value, static_cast<std::size_t>(p - value));
            field.joined = false;
            previous = &field;
        }
    }

    simdjson::dom::element value(std::size_t i) {
        need_dom();
        return values[i];
    }
};

JsonRecord::JsonRecord() : impl_(std::make_unique<Impl>()) {}
JsonRecord::~JsonRecord() = default;

bool JsonRecord::parse(std::string_view json) {
    Impl& r = *impl_;
    r.text = json;
    r.fields.clear();
    r.values.clear();
    r.index.clear();
    r.dom = r.dom_fields = false;
    // Past the scan, simdjson's depth limit lets an empty container one level too deep
    // through (see nesting_limited_parser): such a record goes the Value way, which refuses it.
    if (!scan_object_fields(json, r.fields) && (!r.parse_dom() || nesting_error_offset(json) != std::string_view::npos))
        return false;
    // Duplicate keys go the Value way, which keeps the last value at the first key's place.
    const auto& fields = r.fields;
    if (fields.size() > linear_limit) {
        for (std::size_t i = 0; i < fields.size(); ++i)
            if (!r.index.emplace(fields[i].key, i).second) return false;
    } else {
        for (std::size_t i = 1; i < fields.size(); ++i)
            for (std::size_t j = 0; j < i; ++j)
                if (same_key(fields[j].key, fields[i].key)) return false;
    }
    return true;
}

std::size_t JsonRecord::size() const noexcept { return impl_->fields.size(); }

int JsonRecord::find(std::string_view key) const noexcept {
    const auto& fields = impl_->fields;
    if (fields.size() > linear_limit) {
        auto found = impl_->index.find(key);
        return found == impl_->index.end() ? -1 : static_cast<int>(found->second);
    }
    auto& bucket = impl_->hint_bucket(key.data());
    for (const Impl::Hint& hint : bucket)
        if (hint.key == key.data() && hint.index < fields.size() && same_key(fields[hint.index].key, key))
            return static_cast<int>(hint.index);
    for (std::size_t i = 0; i < fields.size(); ++i) {
        if (same_key(fields[i].key, key)) {
            // The newer hint first; the one it displaces keeps the second way.
            if (bucket[0].key != key.data()) bucket[1] = bucket[0];
            bucket[0] = {key.data(), i};
            return static_cast<int>(i);
        }
    }
    return -1;
}

void JsonRecord::push(lua_State* L, const ConvertRefs& refs) const {
    impl_->need_dom();
    push_element(L, impl_->root, refs, 1);
}

JsonRecord::FieldCode JsonRecord::field(std::string_view key, double* number, const char** text,
                                        std::size_t* length) const noexcept {
    const int i = find(key);
    if (i < 0) return FieldCode::absent;
    const ScannedField& field = impl_->fields[static_cast<std::size_t>(i)];
    if (!impl_->dom_fields) {
        // Scanned tokens are valid JSON: numbers convert, strings without escapes are
        // their text between the quotes.
        switch (field.kind) {
        case TokenKind::number: *number = token_number(field.raw_value); return FieldCode::number;
        case TokenKind::string:
            *text = field.raw_value.data() + 1;
            *length = field.raw_value.size() - 2;
            return FieldCode::string;
        case TokenKind::true_value: return FieldCode::true_value;
        case TokenKind::false_value: return FieldCode::false_value;
        case TokenKind::null: return FieldCode::null;
        case TokenKind::escaped_string:
        case TokenKind::object:
        case TokenKind::array: break;
        }
        return FieldCode::table;  // push_field decodes it through the DOM
    }
    const simdjson::dom::element value = impl_->values[static_cast<std::size_t>(i)];
    using simdjson::dom::element_type;
    switch (value.type()) {
    case element_type::INT64: *number = static_cast<double>(value.get_int64().value_unsafe()); return FieldCode::number;
    case element_type::UINT64:
        *number = static_cast<double>(value.get_uint64().value_unsafe());
        return FieldCode::number;
    case element_type::DOUBLE: *number = value.get_double().value_unsafe(); return FieldCode::number;
    case element_type::STRING: {
        const std::string_view s = value.get_string().value_unsafe();
        *text = s.data();
        *length = s.size();
        return FieldCode::string;
    }
    case element_type::BOOL: return value.get_bool().value_unsafe() ? FieldCode::true_value : FieldCode::false_value;
    case element_type::NULL_VALUE: return FieldCode::null;
    case element_type::ARRAY:
    case element_type::OBJECT: break;
    }
    return FieldCode::table;
}

void JsonRecord::push_field(lua_State* L, std::string_view key, const ConvertRefs& refs) const {
    const int i = find(key);
    if (i < 0) lua_pushnil(L);
    else push_element(L, impl_->value(static_cast<std::size_t>(i)), refs, 2);
}

int json_field_for_ffi(void* record, const char* key, std::size_t key_length, double* number, const char** text,
                       std::size_t* length) noexcept {
    return static_cast<int>(
        static_cast<const JsonRecord*>(record)->field(std::string_view(key, key_length), number, text, length));
}

void JsonRecord::append_fields(std::string& out, std::size_t first, std::size_t last) const {
    const auto& fields = impl_->fields;
    for (std::size_t i = first; i < last;) {
        if (i > first) out += ',';
        const ScannedField& field = fields[i];
        if (!field.tight) {
            out += field.raw_key;
            out += ':';
            out += field.raw_value;
            ++i;
            continue;
        }
        // A run of tight fields joined by bare commas is one piece of the input text.
        std::size_t j = i;
        while (j + 1 < last && fields[j].joined && fields[j + 1].tight) ++j;
        const char* begin = field.raw_key.data();
        const char* end = fields[j].raw_value.data() + fields[j].raw_value.size();
        out.append(begin, static_cast<std::size_t>(end - begin));
        i = j + 1;
    }
}

void JsonRecord::append_key(std::string& out, std::size_t i) const { out += impl_->fields[i].raw_key; }

Value JsonRecord::field_value(std::size_t i) const { return element_to_value(impl_->value(i)); }

Value JsonRecord::key_order() const {
    Value::Object keys;
    keys.reserve(impl_->fields.size());
    for (const auto& field : impl_->fields) keys.emplace_back(std::string(field.key), Value());
    return Value(std::move(keys));
}

}  // namespace statenet::detail
