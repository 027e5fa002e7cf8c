// `[params.NAME]` declarations and their values: typed, defaulted, required ones enforced.
#include "load/params.hpp"

#include "load/builder.hpp"

#include <fmt/format.h>

#include <charconv>
#include <cmath>
#include <cstdlib>

namespace statenet::detail {

namespace {

const Keys param_keys = {"type", "default", "required", "doc"};
const Keys param_types = {"string", "int", "float", "bool", "array", "table"};

struct Declared {
    std::string name;
    std::string type = "string";
    Loc loc;
    bool required = false;
    std::optional<Value> default_value;
};

/// `v` as the param type `type`; a string from the host is read as that type. nullopt
/// when it does not fit (`why` says how).
std::optional<Value> as_type(const Value& v, std::string_view type, bool from_text, std::string& why) {
    if (type == "string") {
        if (v.is_string()) return v;
    } else if (type == "int") {
        if (v.is_int()) return v;
        if (from_text && v.is_string()) {
            const std::string& s = v.as_string();
            std::int64_t n = 0;
            const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
            if (ec == std::errc() && end == s.data() + s.size()) return Value(static_cast<long long>(n));
        }
    } else if (type == "float") {
        if (v.is_number()) return Value(v.as_number());
        if (from_text && v.is_string() && !v.as_string().empty()) {
            char* end = nullptr;
            const double d = std::strtod(v.as_string().c_str(), &end);
            if (*end == '\0' && std::isfinite(d)) return Value(d);
        }
    } else if (type == "bool") {
        if (v.is_bool()) return v;
        if (from_text && v.is_string() && (v.as_string() == "true" || v.as_string() == "false"))
            return Value(v.as_string() == "true");
    } else {
        const bool want_array = type == "array";
        if (want_array ? v.is_array() : v.is_object()) return v;
        if (from_text && v.is_string()) {
            try {
                Value parsed = Value::from_json(v.as_string());
                if (want_array ? parsed.is_array() : parsed.is_object()) return parsed;
            } catch (const JsonError& e) {
                why = fmt::format(" (not JSON: {})", e.what());
            }
        }
    }
    return std::nullopt;
}

std::string shown(const Value& v) { return v.is_string() ? "'" + v.as_string() + "'" : v.to_json(); }

class ParamReader {
public:
    ParamReader(Diagnostics& diags, EnvSubstitutions& used) : d_(diags), used_(used) {}

    void declare(const Node& params) {
        if (params.kind != Node::Kind::table) {
            d_.error(params.loc, fmt::format("'params' must be a table of [params.NAME] declarations, not a {}",
                                             kind_name(params.kind)));
            return;
        }
        for (std::size_t i = 0; i < params.fields.size(); ++i)
            declare_one(params.fields[i].first, params.fields[i].second);
    }

    /// A value from a file (typed as written; strings take ${ENV}).
    void give_from_file(const std::string& name, const Node& value, const Loc& key_at) {
        Declared* p = find(name, key_at);
        if (!p) return;
        Node expanded = value;
        expand_strings(expanded);
        set(*p, to_value(expanded), false, value.loc, "[params]");
    }

    /// A value from the host (LoadOptions::params, --param).
    void give_from_host(const std::string& name, const Value& value, const Loc& at) {
        if (Declared* p = find(name, at)) set(*p, value, true, p->loc, "--param");
    }

    Value finish() {
        Value out = Value::object();
        for (auto& p : declared_) {
            if (auto it = values_.find(p.name); it != values_.end()) out.set(p.name, it->second);
            else if (p.required)
                d_.error(p.loc, fmt::format("param '{}' is required: give it with --param {}=VALUE or in the instance "
                                            "file's [params]",
                                            p.name, p.name));
            else if (p.default_value) out.set(p.name, *p.default_value);
        }
        return out;
    }

private:
    void declare_one(const std::string& name, const Node& body) {
        if (body.kind != Node::Kind::table) {
            d_.error(body.loc, fmt::format("param '{}' must be a table (type, default, required, doc)", name));
            return;
        }
        Declared p;
        p.name = name;
        p.loc = body.loc;
        for (std::size_t i = 0; i < body.fields.size(); ++i) {
            const auto& [key, value] = body.fields[i];
            if (std::find(param_keys.begin(), param_keys.end(), key) == param_keys.end())
                d_.error(key_loc(body, i),
                         fmt::format("unknown key '{}' in param '{}'{}", key, name, suggest(key, param_keys)));
        }
        if (const Node* t = body.field("type")) {
            if (t->kind != Node::Kind::string ||
                std::find(param_types.begin(), param_types.end(), t->str) == param_types.end())
                d_.error(t->loc, fmt::format("param '{}': type must be string, int, float, bool, array or table{}",
                                             name, t->kind == Node::Kind::string ? suggest(t->str, param_types) : ""));
            else p.type = t->str;
        }
        if (const Node* r = body.field("required")) {
            if (r->kind != Node::Kind::boolean)
                d_.error(r->loc, fmt::format("param '{}': required must be true or false", name));
            else p.required = r->boolean;
        }
        if (const Node* doc = body.field("doc"); doc && doc->kind != Node::Kind::string)
            d_.error(doc->loc, fmt::format("param '{}': doc must be a string", name));
        if (const Node* def = body.field("default")) {
            if (p.required)
                d_.error(def->loc, fmt::format("param '{}' is required, so it cannot have a default", name));
            Node expanded = *def;
            expand_strings(expanded);
            std::string why;
            if (auto typed = as_type(to_value(expanded), p.type, false, why)) p.default_value = std::move(*typed);
            else d_.error(def->loc, fmt::format("param '{}': the default is not a {}", name, p.type));
        }
        for (const auto& other : declared_)
            if (other.name == name) return;  // merged declarations share one table: cannot happen twice
        declared_.push_back(std::move(p));
    }

    Declared* find(const std::string& name, const Loc& at) {
        for (auto& p : declared_)
            if (p.name == name) return &p;
        std::vector<std::string_view> names;
        for (const auto& p : declared_) names.push_back(p.name);
        d_.error(at, fmt::format("unknown param '{}' ({}){}", name,
                                 names.empty() ? "the workflow declares no [params]"
                                               : fmt::format("declared: {}", fmt::join(names, ", ")),
                                 suggest(name, names)));
        return nullptr;
    }

    void set(Declared& p, const Value& value, bool from_text, const Loc& at, std::string_view source) {
        std::string why;
        if (auto typed = as_type(value, p.type, from_text, why)) {
            values_.insert_or_assign(p.name, std::move(*typed));
            return;
        }
        d_.error(at, fmt::format("param '{}' must be a{} {}; {} gave {}{}", p.name, p.type == "int" ? "n" : "", p.type,
                                 source, shown(value), why));
    }

    void expand_strings(Node& n) {
        if (n.kind == Node::Kind::string && n.str.find('$') != std::string::npos)
            n.str = expand_env_string(n.str, n.loc, {}, d_, used_);
        for (auto& item : n.items) expand_strings(item);
        for (auto& field : n.fields) expand_strings(field.second);
    }

    Diagnostics& d_;
    EnvSubstitutions& used_;
    std::vector<Declared> declared_;
    std::map<std::string, Value> values_;
};

}  // namespace

Value read_params(Node& root, const Node& instance, const std::map<std::string, Value>& given, Diagnostics& diags,
                  EnvSubstitutions& used) {
    ParamReader reader(diags, used);
    if (const std::optional<Node> declared = take_field(root, "params")) reader.declare(*declared);
    if (instance.kind == Node::Kind::table)
        for (std::size_t i = 0; i < instance.fields.size(); ++i)
            reader.give_from_file(instance.fields[i].first, instance.fields[i].second, key_loc(instance, i));
    else diags.error(instance.loc, "an instance file's 'params' must be a table of values");
    const Loc host{root.loc.file, 0, 0};
    for (const auto& [name, value] : given) reader.give_from_host(name, value, host);
    return reader.finish();
}

}  // namespace statenet::detail
