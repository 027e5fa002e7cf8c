// The workflow's sandbox keys (`trust`, `[limits]`) and the host's say over them.
#include "load/sandbox_keys.hpp"

#include "load/suggest.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <vector>

namespace statenet::detail {

namespace {

constexpr double bytes_per_mb = 1024.0 * 1024.0;

std::vector<std::string_view> trust_names() { return {trustable.begin(), trustable.end()}; }

bool is_trustable(std::string_view name) {
    return std::find(trustable.begin(), trustable.end(), name) != trustable.end();
}

void read_trust(const Node& n, SandboxSettings& s, Diagnostics& diags) {
    s.trust_loc = n.loc;
    const bool empty_table = n.kind == Node::Kind::table && n.fields.empty();
    if (n.kind != Node::Kind::array && !empty_table) {
        diags.error(n.loc, "'trust' must be a list of names (io, os, ffi, debug, jit)");
        return;
    }
    for (const Node& item : n.items) {
        if (item.kind != Node::Kind::string) {
            diags.error(item.loc, "'trust' must be a list of names (io, os, ffi, debug, jit)");
        } else if (!is_trustable(item.str)) {
            diags.error(item.loc, fmt::format("unknown trust '{}' (expected io, os, ffi, debug or jit){}", item.str,
                                              suggest(item.str, trust_names())));
        } else if (std::find(s.trust.begin(), s.trust.end(), item.str) == s.trust.end()) {
            s.trust.push_back(item.str);
        }
    }
}

std::optional<double> positive(const Node& table, std::string_view key, Diagnostics& diags) {
    const Node* n = table.field(key);
    if (!n) return std::nullopt;
    const double v = n->kind == Node::Kind::integer  ? static_cast<double>(n->integer)
                     : n->kind == Node::Kind::number ? n->number
                                                     : NAN;
    if (!(v > 0) || !std::isfinite(v)) {
        diags.error(n->loc, fmt::format("'limits.{}' must be a positive number", key));
        return std::nullopt;
    }
    return v;
}

void read_limits(const Node& n, SandboxSettings& s, Diagnostics& diags) {
    s.limits_loc = n.loc;
    if (n.kind != Node::Kind::table) {
        diags.error(n.loc, "'limits' must be a table (call_ms, memory_mb)");
        return;
    }
    static const std::vector<std::string_view> keys = {"call_ms", "memory_mb", "description"};
    for (std::size_t i = 0; i < n.fields.size(); ++i) {
        const std::string& key = n.fields[i].first;
        if (std::find(keys.begin(), keys.end(), key) != keys.end()) continue;
        const Loc& at = i < n.field_locs.size() ? n.field_locs[i] : n.fields[i].second.loc;
        diags.error(at, fmt::format("unknown key '{}' in limits{}", key, suggest(key, keys)));
    }
    s.call_ms = positive(n, "call_ms", diags);
    s.memory_mb = positive(n, "memory_mb", diags);
}

}  // namespace

void read_sandbox_keys(const Node& root, Model& model, Diagnostics& diags) {
    if (const Node* trust = root.field("trust")) read_trust(*trust, model.sandbox, diags);
    if (const Node* limits = root.field("limits")) read_limits(*limits, model.sandbox, diags);
}

void check_sandbox_policy(const Model& model, std::string_view text, const EngineOptions& options, Diagnostics& diags) {
    const SandboxSettings& s = model.sandbox;
    if (options.strict_sandbox && !s.trust.empty())
        diags.error(s.trust_loc, "the sandbox is strict: this host lets no workflow opt out of it with 'trust'");
    if (options.strict_sandbox && s.call_ms && options.call_limit_ms > 0 && *s.call_ms > options.call_limit_ms)
        diags.error(s.limits_loc, fmt::format("the sandbox is strict: 'limits.call_ms' may not exceed the host's {} ms",
                                              options.call_limit_ms));
    if (options.strict_sandbox && s.memory_mb && options.memory_limit_mb > 0 && *s.memory_mb > options.memory_limit_mb)
        diags.error(s.limits_loc,
                    fmt::format("the sandbox is strict: 'limits.memory_mb' may not exceed the host's {} MB",
                                options.memory_limit_mb));
    if (!model.lua_source || s.trust.empty()) return;
    const TrustLiteral literal = find_trust_literal(text);
    for (const std::string& name : s.trust)
        if (std::find(literal.names.begin(), literal.names.end(), name) == literal.names.end()) {
            diags.error(s.trust_loc,
                        "a Lua workflow's 'trust' must be a literal list in its returned table "
                        "(trust = { \"io\", ... }), so that it can be read before the file runs");
            return;
        }
}

std::optional<SandboxConfig> reader_sandbox(std::string_view text, const std::string& file,
                                            const EngineOptions& options, Diagnostics& diags) {
    SandboxConfig config;
    config.enabled = sandbox_enabled_by_environment();
    config.call_ms = options.call_limit_ms;
    config.memory_bytes =
        options.memory_limit_mb > 0 ? static_cast<std::size_t>(options.memory_limit_mb * bytes_per_mb) : 0;
    TrustLiteral literal = find_trust_literal(text);
    if (!literal.found) return config;
    if (options.strict_sandbox && !literal.names.empty()) {
        diags.error(Loc{file, literal.line, literal.column},
                    "the sandbox is strict: this host lets no workflow opt out of it with 'trust'");
        return std::nullopt;
    }
    for (const std::string& name : literal.names)
        if (is_trustable(name)) config.trust.push_back(name);
    return config;
}

}  // namespace statenet::detail
