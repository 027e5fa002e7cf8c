// JsonRecord: simdjson's DOM of one record, its top-level fields indexed for Lua.
#include "lua/json_record.hpp"

#include "json/json_internal.hpp"

#include <simdjson.h>

#include <cstdint>
#include <limits>
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

std::size_t skip_space(std::string_view text, std::size_t at) {
    while (at < text.size() && (text[at] == ' ' || text[at] == '\t' || text[at] == '\n' || text[at] == '\r')) ++at;
    return at;
}

// The end of the string token starting at `at` (its opening quote).
std::size_t string_end(std::string_view text, std::size_t at) {
    for (++at; at < text.size(); ++at) {
        if (text[at] == '\\') ++at;
        else if (text[at] == '"') return at + 1;
    }
    return text.size();
}

// The end of the value token starting at `at`.
std::size_t value_end(std::string_view text, std::size_t at) {
    if (text[at] == '"') return string_end(text, at);
    int depth = 0;
    for (; at < text.size(); ++at) {
        const char c = text[at];
        if (c == '"') {
            at = string_end(text, at) - 1;
        } else if (c == '{' || c == '[') {
            ++depth;
        } else if (c == '}' || c == ']') {
            if (depth == 0) return at;  // the end of a scalar at the object's end
            if (--depth == 0) return at + 1;
        } else if (depth == 0 && (c == ',' || c == ' ' || c == '\t' || c == '\n' || c == '\r')) {
            return at;
        }
    }
    return at;
}

}  // namespace

/// A top-level field: its key (unescaped, from the DOM), its value, and where its key
/// and value tokens are in the input text.
struct JsonField {
    std::string_view key;
    simdjson::dom::element value;
    std::string_view raw_key, raw_value;
};

struct JsonRecord::Impl {
    simdjson::dom::parser parser;
    std::vector<JsonField> fields;
    std::unordered_map<std::string_view, std::size_t> index;  // only beyond linear_limit

    // The token spans of each field. Only for text simdjson has validated, so the
    // scan need not check the grammar; it follows the DOM's field order.
    void locate(std::string_view text) {
        std::size_t at = skip_space(text, 0) + 1;  // past '{'
        for (auto& field : fields) {
            at = skip_space(text, at);
            if (text[at] == ',') at = skip_space(text, at + 1);
            const std::size_t key_end = string_end(text, at);
            field.raw_key = text.substr(at, key_end - at);
            at = skip_space(text, skip_space(text, key_end) + 1);  // past ':'
            const std::size_t end = value_end(text, at);
            field.raw_value = text.substr(at, end - at);
            at = end;
        }
    }
};

JsonRecord::JsonRecord() : impl_(std::make_unique<Impl>()) {}
JsonRecord::~JsonRecord() = default;

bool JsonRecord::parse(std::string_view json) {
    auto& fields = impl_->fields;
    fields.clear();
    impl_->index.clear();
    simdjson::dom::element root;
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

void JsonRecord::push(lua_State* L, const ConvertRefs& refs) const {
    lua_createtable(L, 0, static_cast<int>(impl_->fields.size()));
    for (const auto& field : impl_->fields) {
        if (field.value.is_null()) continue;
        lua_pushlstring(L, field.key.data(), field.key.size());
        push_element(L, field.value, refs, 1);
        lua_rawset(L, -3);
    }
}

void JsonRecord::append_field(std::string& out, std::size_t i) const {
    const JsonField& field = impl_->fields[i];
    out += field.raw_key;
    out += ':';
    out += field.raw_value;
}

Value JsonRecord::field_value(std::size_t i) const { return element_to_value(impl_->fields[i].value); }

Value JsonRecord::key_order() const {
    Value::Object keys;
    keys.reserve(impl_->fields.size());
    for (const auto& field : impl_->fields) keys.emplace_back(std::string(field.key), Value());
    return Value(std::move(keys));
}

}  // namespace statenet::detail
