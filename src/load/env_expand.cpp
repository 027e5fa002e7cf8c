// `${ENV}` expansion of workflow strings, and the redaction of expanded values in messages.
#include "load/env_expand.hpp"

#include "load/builder.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstdlib>

namespace statenet::detail {

namespace {

bool name_start(char c) noexcept { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_'; }
bool name_char(char c) noexcept { return name_start(c) || (c >= '0' && c <= '9'); }

std::optional<std::string> process_env(const std::string& name) {
    if (const char* value = std::getenv(name.c_str())) return std::string(value);
    return std::nullopt;
}

constexpr std::string_view params_prefix = "params.";

bool is_name(std::string_view s) noexcept {
    return !s.empty() && name_start(s[0]) && std::all_of(s.begin(), s.end(), name_char);
}

/// The param NAME when `text` is exactly `${params.NAME}`, else empty.
std::string_view whole_param(std::string_view text) noexcept {
    if (!text.starts_with("${") || !text.ends_with('}')) return {};
    std::string_view inner = text.substr(2, text.size() - 3);
    if (!inner.starts_with(params_prefix)) return {};
    inner.remove_prefix(params_prefix.size());
    return is_name(inner) ? inner : std::string_view{};
}

const Value* param_value(const Value& params, std::string_view name, const Loc& loc, Diagnostics& diags) {
    if (const Value* v = params.find(name)) return v;
    std::vector<std::string_view> names;
    for (const auto& [key, value] : params.as_object()) names.push_back(key);
    diags.error(loc, fmt::format("'${{params.{}}}': no param '{}' is declared, or it has no value (with values: {})",
                                 name, name, names.empty() ? "none" : fmt::format("{}", fmt::join(names, ", "))));
    return nullptr;
}

void expand_node(Node& n, Diagnostics& diags, const EnvLookup& lookup, EnvSubstitutions& used, const Value* params) {
    switch (n.kind) {
    case Node::Kind::string:
        if (n.str.find('$') == std::string::npos) break;
        if (const std::string_view name = whole_param(n.str); params && !name.empty()) {
            const Value* value = param_value(*params, name, n.loc, diags);
            if (value) to_node(*value, Loc(n.loc), n);
            break;
        }
        n.str = expand_env_string(n.str, n.loc, lookup, diags, used, params);
        break;
    case Node::Kind::table:
        for (auto& field : n.fields) expand_node(field.second, diags, lookup, used, params);
        break;
    case Node::Kind::array:
        for (auto& item : n.items) expand_node(item, diags, lookup, used, params);
        break;
    default: break;
    }
}

}  // namespace

std::string expand_env_string(std::string_view text, const Loc& loc, const EnvLookup& lookup, Diagnostics& diags,
                              EnvSubstitutions& used, const Value* params) {
    std::string out;
    out.reserve(text.size());
    std::size_t i = 0;
    while (i < text.size()) {
        const char c = text[i];
        if (c != '$' || i + 1 >= text.size() || (text[i + 1] != '$' && text[i + 1] != '{')) {
            out += c;
            ++i;
            continue;
        }
        if (text[i + 1] == '$') {
            out += '$';
            i += 2;
            continue;
        }
        const std::size_t close = text.find('}', i + 2);
        if (close == std::string_view::npos) {
            diags.error(loc, "unterminated '${' in a string (write '$$' for a literal '$')");
            return std::string(text);
        }
        const std::string_view inner = text.substr(i + 2, close - i - 2);
        if (params && inner.starts_with(params_prefix) && is_name(inner.substr(params_prefix.size()))) {
            if (const Value* v = param_value(*params, inner.substr(params_prefix.size()), loc, diags))
                out += v->is_string() ? v->as_string() : v->to_json();
            i = close + 1;
            continue;
        }
        std::size_t end = 0;
        while (end < inner.size() && name_char(inner[end])) ++end;
        const std::string name(inner.substr(0, end));
        const bool has_default = inner.substr(end, 2) == ":-";
        if (name.empty() || !name_start(name[0]) || (end < inner.size() && !has_default)) {
            diags.error(loc, fmt::format("malformed '${{{}}}': expected ${{NAME}} or ${{NAME:-default}} "
                                         "(write '$$' for a literal '$')",
                                         inner.substr(0, 40)));
            return std::string(text);
        }
        std::optional<std::string> value = lookup ? lookup(name) : process_env(name);
        if (has_default && (!value || value->empty())) {
            out += inner.substr(end + 2);
        } else if (value) {
            out += *value;
            used.emplace_back(name, std::move(*value));
        } else {
            diags.error(loc, fmt::format("environment variable '{}' is not set (give a default with '${{{}:-...}}')",
                                         name, name));
        }
        i = close + 1;
    }
    return out;
}

EnvSubstitutions expand_env(Node& root, Diagnostics& diags, const EnvLookup& lookup, const Value* params) {
    EnvSubstitutions used;
    expand_node(root, diags, lookup, used, params);
    return used;
}

void redact_env(Diagnostics& diags, const EnvSubstitutions& used) {
    for (auto& diagnostic : diags.list)
        for (const auto& [name, value] : used) {
            if (value.size() < 4) continue;
            const std::string mask = "${" + name + "}";
            for (auto at = diagnostic.message.find(value); at != std::string::npos;
                 at = diagnostic.message.find(value, at + mask.size()))
                diagnostic.message.replace(at, value.size(), mask);
        }
}

}  // namespace statenet::detail
