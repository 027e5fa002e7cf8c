// The builder's typed reads of document nodes: keys checked with did-you-mean, values of
// the expected kind, function references — each problem reported where it is written.
#include "load/builder.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <filesystem>

namespace statenet::detail {

bool is_list(const Node& n) { return n.kind == Kind::array || (n.kind == Kind::table && n.fields.empty()); }

const Loc& key_loc(const Node& table, std::size_t i) {
    return i < table.field_locs.size() ? table.field_locs[i] : table.fields[i].second.loc;
}

Value to_value(const Node& n) {
    switch (n.kind) {
    case Kind::string: return Value(n.str);
    case Kind::integer: return Value(static_cast<long long>(n.integer));
    case Kind::number: return Value(n.number);
    case Kind::boolean: return Value(n.boolean);
    case Kind::function: return Value();
    case Kind::array: {
        Value::Array items;
        for (const auto& item : n.items) items.push_back(to_value(item));
        return Value(std::move(items));
    }
    case Kind::table: break;
    }
    Value::Object members;
    for (const auto& [k, v] : n.fields) members.emplace_back(k, to_value(v));
    return Value(std::move(members));
}

bool to_node(const Value& v, const Loc& at, Node& out) {
    Node n;
    n.loc = at;
    switch (v.type()) {
    case Value::Type::null: return false;
    case Value::Type::boolean: n.kind = Kind::boolean, n.boolean = v.as_bool(); break;
    case Value::Type::integer: n.kind = Kind::integer, n.integer = v.as_int(); break;
    case Value::Type::number: n.kind = Kind::number, n.number = v.as_number(); break;
    case Value::Type::string: n.kind = Kind::string, n.str = v.as_string(); break;
    case Value::Type::array:
        n.kind = Kind::array;
        for (const auto& item : v.as_array()) {
            Node child;
            if (to_node(item, at, child)) n.items.push_back(std::move(child));
        }
        break;
    case Value::Type::object:
        n.kind = Kind::table;
        for (const auto& [key, value] : v.as_object()) {
            Node child;
            if (!to_node(value, at, child)) continue;
            n.fields.emplace_back(key, std::move(child));
            n.field_locs.push_back(at);
        }
        break;
    }
    out = std::move(n);
    return true;
}

void Builder::check_keys(const Node& table, const Keys& allowed, std::string_view what) {
    for (std::size_t i = 0; i < table.fields.size(); ++i) {
        const std::string& key = table.fields[i].first;
        if (std::find(allowed.begin(), allowed.end(), key) == allowed.end())
            d_.error(key_loc(table, i), fmt::format("unknown key '{}' in {}{}", key, what, suggest(key, allowed)));
    }
}

std::string_view Builder::article(std::string_view noun) {
    return !noun.empty() && std::string_view("aeiou").find(noun.front()) != std::string_view::npos ? "an" : "a";
}

void Builder::wrong_kind(const Node& n, std::string_view what, std::string_view expected) {
    auto got = kind_name(n.kind);
    d_.error(n.loc, fmt::format("'{}' must be {} {}, not {} {}", what, article(expected), expected, article(got), got));
}

std::optional<std::string> Builder::string_of(const Node& table, std::string_view key, bool required) {
    const Node* n = table.field(key);
    if (!n) {
        if (required) d_.error(table.loc, fmt::format("missing required key '{}'", key));
        return std::nullopt;
    }
    if (n->kind != Kind::string) {
        wrong_kind(*n, key, "string");
        return std::nullopt;
    }
    return n->str;
}

std::optional<double> Builder::number_of(const Node& table, std::string_view key) {
    const Node* n = table.field(key);
    if (!n) return std::nullopt;
    if (n->kind == Kind::integer) return static_cast<double>(n->integer);
    if (n->kind == Kind::number) return n->number;
    wrong_kind(*n, key, "number");
    return std::nullopt;
}

std::optional<std::int64_t> Builder::integer_in(const Node& table, std::string_view key, std::int64_t min,
                                                std::int64_t max) {
    const Node* n = table.field(key);
    if (!n) return std::nullopt;
    if (n->kind == Kind::integer && n->integer >= min && n->integer <= max) return n->integer;
    d_.error(n->loc, fmt::format("'{}' must be an integer from {} to {}", key, min, max));
    return std::nullopt;
}

std::optional<double> Builder::number_in(const Node& table, std::string_view key, double min, double max) {
    auto v = number_of(table, key);
    if (!v) return std::nullopt;
    if (std::isfinite(*v) && *v >= min && *v <= max) return v;
    d_.error(table.field(key)->loc, fmt::format("'{}' must be a number from {} to {}", key, min, max));
    return std::nullopt;
}

std::optional<bool> Builder::bool_of(const Node& table, std::string_view key) {
    const Node* n = table.field(key);
    if (!n) return std::nullopt;
    if (n->kind != Kind::boolean) {
        wrong_kind(*n, key, "boolean");
        return std::nullopt;
    }
    return n->boolean;
}

DataMode Builder::data_mode(const std::string& text, const Node& at) {
    auto mode = parse_data_mode(text);
    if (!mode) {
        d_.error(at.loc, fmt::format("unknown data_mode '{}' (expected copy, reference or direct){}", text,
                                     suggest(text, {"copy", "reference", "direct"})));
        return DataMode::copy;
    }
    return *mode;
}

std::vector<std::string> Builder::error_names(const Node& item, std::string_view what) {
    std::vector<std::string> names;
    const Node* errors = item.field("errors");
    if (!errors) {
        d_.error(item.loc, fmt::format("{} entry needs 'errors' (a list of error names, \"*\" for all)", what));
        return names;
    }
    if (errors->kind == Kind::string) return {errors->str};
    if (!is_list(*errors)) {
        wrong_kind(*errors, "errors", "list of error names");
        return names;
    }
    for (const auto& e : errors->items) {
        if (e.kind == Kind::string) names.push_back(e.str);
        else wrong_kind(e, "errors entry", "string");
    }
    return names;
}

FieldMap Builder::field_map(const Node* map, std::string_view what) {
    FieldMap out;
    if (!map) return out;
    if (map->kind != Kind::table) {
        wrong_kind(*map, what, "table of field = field");
        return out;
    }
    for (const auto& [from, to] : map->fields) {
        if (to.kind != Kind::string) wrong_kind(to, std::string(what) + "." + from, "field name string");
        else out.emplace_back(from, to.str);
    }
    return out;
}

std::vector<FnId> Builder::fn_list(const Node* n, std::string_view what) {
    std::vector<FnId> ids;
    if (!n) return ids;
    if (is_list(*n)) {
        for (const auto& item : n->items)
            if (auto id = fn_ref(item, what)) ids.push_back(*id);
    } else if (auto id = fn_ref(*n, what)) {
        ids.push_back(*id);
    }
    return ids;
}

std::optional<FnId> Builder::fn_ref(const Node& n, std::string_view what) {
    FnRef ref;
    ref.loc = n.loc;
    if (n.kind == Kind::string) {
        if (!split_name(n.str, ref, n.loc, what)) return std::nullopt;
        ref.kind = FnRef::Kind::named;
    } else if (n.kind == Kind::function) {
        ref.kind = FnRef::Kind::lua_value;
        ref.path = n.fn_path;
    } else if (n.kind == Kind::table) {
        const Node* fn = n.field("fn");
        const Node* lua = n.field("lua");
        for (std::size_t i = 0; i < n.fields.size(); ++i) {
            const auto& key = n.fields[i].first;
            if (key != "fn" && key != "args" && key != "lua")
                d_.error(key_loc(n, i), fmt::format("unknown key '{}' in function reference{}", key,
                                                    suggest(key, {"fn", "args", "lua"})));
        }
        if (lua && fn) {
            d_.error(n.loc, "a function reference has either 'fn' or 'lua', not both");
            return std::nullopt;
        }
        if (lua) {
            if (lua->kind != Kind::string) {
                wrong_kind(*lua, "lua", "string of Lua code");
                return std::nullopt;
            }
            ref.kind = FnRef::Kind::inline_lua;
            ref.code = lua->str;
            ref.loc = lua->loc;
            // Lua's messages count lines from the code's first line.
            if (lua->text_line) ref.loc.line = lua->text_line;
        } else if (fn) {
            if (fn->kind != Kind::string) {
                wrong_kind(*fn, "fn", "\"module.function\" string");
                return std::nullopt;
            }
            if (!split_name(fn->str, ref, fn->loc, what)) return std::nullopt;
            ref.kind = FnRef::Kind::factory;
            ref.loc = fn->loc;
            if (const Node* args = n.field("args")) ref.args = to_value(*args);
        } else {
            d_.error(n.loc, fmt::format("'{}': a function reference table needs 'fn' or 'lua'", what));
            return std::nullopt;
        }
    } else {
        wrong_kind(n, what, "function reference (\"module.fn\", { fn = ..., args = ... } or { lua = ... })");
        return std::nullopt;
    }
    m_.functions.push_back(std::move(ref));
    return static_cast<FnId>(m_.functions.size() - 1);
}

bool Builder::split_name(const std::string& name, FnRef& ref, const Loc& loc, std::string_view what) {
    auto dot = name.rfind('.');
    if (dot == std::string::npos || dot == 0 || dot + 1 == name.size()) {
        d_.error(loc, fmt::format("'{}': bad function reference '{}' (expected \"module.function\")", what, name));
        return false;
    }
    ref.module = name.substr(0, dot);
    ref.function = name.substr(dot + 1);
    return true;
}

}  // namespace statenet::detail
