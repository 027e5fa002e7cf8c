// JsonRecord: simdjson's DOM of one record, its top-level fields indexed for Lua.
#include "lua/json_record.hpp"

#include "json/json_internal.hpp"

#include <simdjson.h>

#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

namespace statenet::detail {

namespace {

constexpr int max_depth = 200;
// Beyond this many fields, lookups and the duplicate check use a hash index.
constexpr std::size_t linear_limit = 16;

void push_element(lua_State* L, simdjson::dom::element element, const ConvertRefs& refs, int depth) {
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
    if (depth > max_depth) throw ConvertError("record is nested too deeply");
    luaL_checkstack(L, 4, "statenet: record too deep");
    if (element.type() == element_type::ARRAY) {
        const auto array = element.get_array().value_unsafe();
        lua_createtable(L, static_cast<int>(array.size()), 0);
        int i = 1;
        for (const simdjson::dom::element item : array) {
            // null keeps its place in an array as statenet.null (nil would end it).
            if (item.is_null()) lua_pushlightuserdata(L, nullptr);
            else push_element(L, item, refs, depth + 1);
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
        push_element(L, field.value, refs, depth + 1);
        lua_rawset(L, -3);
    }
}

// Token scanning over text simdjson has already validated, so nothing here checks the
// grammar. Pointers run to `end`; memchr finds quotes a word at a time.

inline bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

const char* skip_space(const char* p, const char* end) {
    while (p < end && is_space(*p)) ++p;
    return p;
}

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
        while (p < end && !is_space(*p) && *p != ',' && *p != '}' && *p != ']') ++p;
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

/// A top-level field: its key (unescaped, from the DOM), its value, and where its key
/// and value tokens are in the input text.
struct JsonField {
    std::string_view key;
    simdjson::dom::element value;
    std::string_view raw_key, raw_value;
    bool tight = false;   // `"key":value` with nothing between the tokens
    bool joined = false;  // the next field follows after one comma, nothing else
};

struct JsonRecord::Impl {
    simdjson::dom::parser parser;
    std::vector<JsonField> fields;
    std::unordered_map<std::string_view, std::size_t> index;  // only beyond linear_limit
    simdjson::dom::element root;  // the record's object

    // The token spans of each field, in the DOM's field order.
    void locate(std::string_view text) {
        const char* end = text.data() + text.size();
        const char* p = skip_space(text.data(), end) + 1;  // past '{'
        JsonField* previous = nullptr;
        for (auto& field : fields) {
            const char* after = p;
            p = skip_space(p, end);
            if (*p == ',') p = skip_space(p + 1, end);
            if (previous) previous->joined = p == after + 1;
            const char* key_end = string_end(p, end);
            field.raw_key = std::string_view(p, static_cast<std::size_t>(key_end - p));
            p = skip_space(skip_space(key_end, end) + 1, end);  // past ':'
            const char* value = p;
            field.tight = value == key_end + 1;
            p = value_end(p, end);
            field.raw_value = std::string_view(value, static_cast<std::size_t>(p - value));
            field.joined = false;
            previous = &field;
        }
    }
};

JsonRecord::JsonRecord() : impl_(std::make_unique<Impl>()) {}
JsonRecord::~JsonRecord() = default;

bool JsonRecord::parse(std::string_view json) {
    auto& fields = impl_->fields;
    fields.clear();
    impl_->index.clear();
    simdjson::dom::element& root = impl_->root;
    if (impl_->parser.parse(json.data(), json.size()).get(root) || !root.is_object()) return false;
    const auto object = root.get_object().value_unsafe();
    const bool hashed = object.size() > linear_limit;
    for (const simdjson::dom::key_value_pair field : object) {
        if (hashed) {
            if (!impl_->index.emplace(field.key, fields.size()).second) return false;
        } else {
            for (const auto& seen : fields)
                if (seen.key == field.key) return false;
        }
        fields.push_back(JsonField{field.key, field.value, {}, {}});
    }
    impl_->locate(json);
    return true;
}

std::size_t JsonRecord::size() const noexcept { return impl_->fields.size(); }

std::string_view JsonRecord::key(std::size_t i) const noexcept { return impl_->fields[i].key; }

int JsonRecord::find(std::string_view key) const noexcept {
    const auto& fields = impl_->fields;
    if (fields.size() > linear_limit) {
        auto found = impl_->index.find(key);
        return found == impl_->index.end() ? -1 : static_cast<int>(found->second);
    }
    for (std::size_t i = 0; i < fields.size(); ++i)
        if (fields[i].key == key) return static_cast<int>(i);
    return -1;
}

void JsonRecord::push(lua_State* L, const ConvertRefs& refs) const { push_element(L, impl_->root, refs, 0); }

JsonRecord::FieldCode JsonRecord::field(std::string_view key, double* number, const char** text,
                                        std::size_t* length) const noexcept {
    const int i = find(key);
    if (i < 0) return absent;
    const simdjson::dom::element value = impl_->fields[static_cast<std::size_t>(i)].value;
    using simdjson::dom::element_type;
    switch (value.type()) {
    case element_type::INT64: *number = static_cast<double>(value.get_int64().value_unsafe()); return FieldCode::number;
    case element_type::UINT64: *number = static_cast<double>(value.get_uint64().value_unsafe()); return FieldCode::number;
    case element_type::DOUBLE: *number = value.get_double().value_unsafe(); return FieldCode::number;
    case element_type::STRING: {
        const std::string_view s = value.get_string().value_unsafe();
        *text = s.data();
        *length = s.size();
        return FieldCode::string;
    }
    case element_type::BOOL: return value.get_bool().value_unsafe() ? true_value : false_value;
    case element_type::NULL_VALUE: return null;
    case element_type::ARRAY:
    case element_type::OBJECT: break;
    }
    return table;
}

void JsonRecord::push_field(lua_State* L, std::string_view key, const ConvertRefs& refs) const {
    const int i = find(key);
    if (i < 0) lua_pushnil(L);
    else push_element(L, impl_->fields[static_cast<std::size_t>(i)].value, refs, 1);
}

int json_field_for_ffi(void* record, const char* key, std::size_t key_length, double* number, const char** text,
                       std::size_t* length) noexcept {
    return static_cast<const JsonRecord*>(record)->field(std::string_view(key, key_length), number, text, length);
}

void JsonRecord::append_fields(std::string& out, std::size_t first, std::size_t last) const {
    const auto& fields = impl_->fields;
    for (std::size_t i = first; i < last;) {
        if (i > first) out += ',';
        const JsonField& field = fields[i];
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

Value JsonRecord::field_value(std::size_t i) const { return element_to_value(impl_->fields[i].value); }

Value JsonRecord::key_order() const {
    Value::Object keys;
    keys.reserve(impl_->fields.size());
    for (const auto& field : impl_->fields) keys.emplace_back(std::string(field.key), Value());
    return Value(std::move(keys));
}

}  // namespace statenet::detail
