// Builds the immutable model from a located document tree, reporting every problem.
#include "model/model.hpp"
#include "resources/sqlite_resource.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <string_view>

namespace statenet::detail {

namespace {

using Kind = Node::Kind;
using Keys = std::vector<std::string_view>;

const Keys top_keys = {"name",      "version",         "description", "main",    "scripts",     "data_mode",
                       "strategy",  "max_transitions", "timeout_ms",  "vars",    "transaction", "history",
                       "resources", "reference",       "networks",    "recovery"};
const Keys network_keys = {"states", "any", "description"};
const Keys state_keys = {"name", "start", "end",      "end_test",  "schema", "pre_validate", "transform",  "validate",
                         "arcs", "retry", "on_error", "data_mode", "emit",   "resources",    "description"};
const Keys arc_keys = {"to",        "push",     "return_to", "isolation", "map_in",    "map_out",    "when",
                       "transform", "priority", "on",        "after_ms",  "resources", "description"};
const Keys resource_keys = {"type", "path", "pool", "busy_timeout_ms", "description"};
const Keys retry_keys = {"errors", "attempts", "interval_ms", "backoff", "max_delay_ms", "jitter"};
const Keys catcher_keys = {"errors", "to"};
const Keys any_keys = {"arcs", "description"};
const Keys recovery_keys = {"idle_ms", "event", "description"};
const Keys transaction_keys = {"strategy", "batch_size"};
const Keys reference_keys = {"resource", "table", "key", "version"};
const Keys history_keys = {"level", "db", "durability", "max_runs", "max_age"};
const Keys schema_types = {"string", "number", "integer", "boolean", "table", "object", "array", "any"};

/// Lua has no empty-list literal: `{}` reads as a table with no keys, so wherever a
/// list is expected an empty table is an empty list.
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

/// A state reference met while reading arcs, resolved once every state is known.
struct PendingTarget {
    int network;
    int state;
    std::size_t arc;
    const Node* to = nullptr;
    const Node* push = nullptr;
    const Node* return_to = nullptr;
};

struct PendingCatcher {
    int network;
    int state;
    std::size_t catcher;
    const Node* to;
};

class Builder {
public:
    Builder(Model& model, Diagnostics& diags) : m_(model), d_(diags) {}

    void build(const Node& root) {
        if (root.kind != Kind::table) {
            d_.error(root.loc, "a workflow must be a table");
            return;
        }
        check_keys(root, top_keys, "workflow");
        if (auto n = string_of(root, "name", true)) m_.name = *n;
        if (const Node* v = root.field("version")) {
            if (v->kind == Kind::string) m_.version = v->str;
            else if (v->kind == Kind::integer) m_.version = std::to_string(v->integer);
            else if (v->kind == Kind::number) m_.version = fmt::format("{}", v->number);
            else wrong_kind(*v, "version", "string");
        }
        string_of(root, "description", false);
        read_scripts(root);
        if (auto mode = string_of(root, "data_mode", false)) m_.mode = data_mode(*mode, *root.field("data_mode"));
        if (auto s = string_of(root, "strategy", false)) {
            if (*s == "depth_first") m_.strategy = Strategy::depth_first;
            else if (*s == "breadth_first") m_.strategy = Strategy::breadth_first;
            else
                d_.error(root.field("strategy")->loc,
                         fmt::format("unknown strategy '{}' (expected depth_first or breadth_first){}", *s,
                                     suggest(*s, {"depth_first", "breadth_first"})));
        }
        if (auto n = integer_in(root, "max_transitions", 1, max_count)) m_.max_transitions = *n;
        if (auto t = number_in(root, "timeout_ms", 0, max_duration_ms)) m_.timeout_ms = *t;
        if (const Node* vars = root.field("vars")) {
            if (vars->kind != Kind::table) wrong_kind(*vars, "vars", "table");
            else m_.vars = to_value(*vars);
        }
        read_transaction(root.field("transaction"));
        read_history(root.field("history"));
        if (const Node* r = root.field("resources")) read_resources(*r);
        read_reference(root);
        read_recovery(root.field("recovery"));
        read_networks(root);
    }

private:
    Model& m_;
    Diagnostics& d_;
    std::vector<PendingTarget> pending_targets_;
    std::vector<PendingCatcher> pending_catchers_;
    std::vector<State> any_;  // per network: its `any` arcs, held by a pseudo-state

    void check_keys(const Node& table, const Keys& allowed, std::string_view what) {
        for (std::size_t i = 0; i < table.fields.size(); ++i) {
            const std::string& key = table.fields[i].first;
            if (std::find(allowed.begin(), allowed.end(), key) == allowed.end())
                d_.error(key_loc(table, i), fmt::format("unknown key '{}' in {}{}", key, what, suggest(key, allowed)));
        }
    }

    static std::string_view article(std::string_view noun) {
        return !noun.empty() && std::string_view("aeiou").find(noun.front()) != std::string_view::npos ? "an" : "a";
    }

    void wrong_kind(const Node& n, std::string_view what, std::string_view expected) {
        auto got = kind_name(n.kind);
        d_.error(n.loc,
                 fmt::format("'{}' must be {} {}, not {} {}", what, article(expected), expected, article(got), got));
    }

    std::optional<std::string> string_of(const Node& table, std::string_view key, bool required) {
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

    std::optional<double> number_of(const Node& table, std::string_view key) {
        const Node* n = table.field(key);
        if (!n) return std::nullopt;
        if (n->kind == Kind::integer) return static_cast<double>(n->integer);
        if (n->kind == Kind::number) return n->number;
        wrong_kind(*n, key, "number");
        return std::nullopt;
    }

    /// The integer at `key` when it is within [min, max]; otherwise reported, naming the range.
    std::optional<std::int64_t> integer_in(const Node& table, std::string_view key, std::int64_t min,
                                           std::int64_t max) {
        const Node* n = table.field(key);
        if (!n) return std::nullopt;
        if (n->kind == Kind::integer && n->integer >= min && n->integer <= max) return n->integer;
        d_.error(n->loc, fmt::format("'{}' must be an integer from {} to {}", key, min, max));
        return std::nullopt;
    }

    /// The number at `key` when it is finite and within [min, max]; otherwise reported,
    /// naming the range (an integer is a number too).
    std::optional<double> number_in(const Node& table, std::string_view key, double min, double max) {
        auto v = number_of(table, key);
        if (!v) return std::nullopt;
        if (std::isfinite(*v) && *v >= min && *v <= max) return v;
        d_.error(table.field(key)->loc, fmt::format("'{}' must be a number from {} to {}", key, min, max));
        return std::nullopt;
    }

    std::optional<bool> bool_of(const Node& table, std::string_view key) {
        const Node* n = table.field(key);
        if (!n) return std::nullopt;
        if (n->kind != Kind::boolean) {
            wrong_kind(*n, key, "boolean");
            return std::nullopt;
        }
        return n->boolean;
    }

    DataMode data_mode(const std::string& text, const Node& at) {
        auto mode = parse_data_mode(text);
        if (!mode) {
            d_.error(at.loc, fmt::format("unknown data_mode '{}' (expected copy, reference or direct){}", text,
                                         suggest(text, {"copy", "reference", "direct"})));
            return DataMode::copy;
        }
        return *mode;
    }

    void read_scripts(const Node& root) {
        m_.module_dirs.push_back(m_.dir);
        const Node* s = root.field("scripts");
        if (!s) return;
        std::vector<const Node*> dirs;
        if (s->kind == Kind::string) dirs.push_back(s);
        else if (is_list(*s))
            for (const auto& item : s->items) dirs.push_back(&item);
        else wrong_kind(*s, "scripts", "list of directories");
        for (const Node* dir : dirs) {
            if (dir->kind != Kind::string) {
                wrong_kind(*dir, "scripts entry", "string");
                continue;
            }
            auto path = (std::filesystem::path(m_.dir) / dir->str).lexically_normal();
            std::error_code ec;
            if (!std::filesystem::is_directory(path, ec))
                d_.error(dir->loc, fmt::format("scripts directory '{}' does not exist", path.string()));
            m_.module_dirs.push_back(path.string());
        }
    }

    void read_transaction(const Node* t) {
        if (!t) return;
        if (t->kind != Kind::table) return wrong_kind(*t, "transaction", "table");
        check_keys(*t, transaction_keys, "[transaction]");
        if (auto s = string_of(*t, "strategy", false)) {
            if (*s == "single") m_.transaction.strategy = TransactionConfig::Strategy::single;
            else if (*s == "batch") m_.transaction.strategy = TransactionConfig::Strategy::batch;
            else if (*s == "manual") m_.transaction.strategy = TransactionConfig::Strategy::manual;
            else
                d_.error(t->field("strategy")->loc,
                         fmt::format("unknown transaction strategy '{}' (expected single, batch or manual){}", *s,
                                     suggest(*s, {"single", "batch", "manual"})));
        }
        if (auto b = integer_in(*t, "batch_size", 1, max_count)) m_.transaction.batch_size = *b;
    }

    // `[reference]` names a declared sqlite resource, so it is read after [resources].
    void read_reference(const Node& root) {
        const Node* r = root.field("reference");
        const Node* mode = root.field("data_mode");
        if (!r) {
            if (m_.mode == DataMode::reference)
                d_.error(mode->loc, "data_mode 'reference' needs a [reference] table (resource, table, key, version)");
            return;
        }
        if (r->kind != Kind::table) return wrong_kind(*r, "reference", "table");
        check_keys(*r, reference_keys, "[reference]");
        if (auto name = string_of(*r, "resource", true)) {
            std::vector<std::string_view> declared;
            for (std::size_t i = 0; i < m_.resources.size(); ++i) {
                declared.push_back(m_.resources[i].name);
                if (m_.resources[i].name == *name) m_.reference.resource = static_cast<int>(i);
            }
            if (m_.reference.resource < 0)
                d_.error(r->field("resource")->loc,
                         fmt::format("unknown resource '{}' (declare it under [resources.{}]){}", *name, *name,
                                     suggest(*name, declared)));
        }
        auto identifier = [&](const char* key, std::string& into, bool required) {
            auto text = string_of(*r, key, required);
            if (!text) return;
            if (!is_identifier(*text))
                d_.error(r->field(key)->loc,
                         fmt::format("[reference] {} '{}' must be a SQL identifier (letters, digits, _)", key, *text));
            into = *text;
        };
        identifier("table", m_.reference.table, true);
        identifier("key", m_.reference.key, false);
        identifier("version", m_.reference.version, false);
        if (m_.reference.key == m_.reference.version)
            d_.error(r->loc, "[reference] key and version must be different columns");
    }

    void read_recovery(const Node* r) {
        if (!r) return;
        if (r->kind != Kind::table) return wrong_kind(*r, "recovery", "table");
        check_keys(*r, recovery_keys, "[recovery]");
        auto idle = number_of(*r, "idle_ms");
        auto event = string_of(*r, "event", true);
        if (!r->field("idle_ms")) d_.error(r->loc, "missing required key 'idle_ms'");
        else if (idle && !(*idle > 0 && std::isfinite(*idle)))
            d_.error(r->field("idle_ms")->loc, "'idle_ms' must be a positive number");
        else if (idle) m_.recovery.idle_ms = *idle;
        if (event && event->empty()) d_.error(r->field("event")->loc, "'event' must not be empty");
        else if (event) m_.recovery.event = *event;
    }

    void read_history(const Node* h) {
        if (!h) return;
        if (h->kind != Kind::table) return wrong_kind(*h, "history", "table");
        check_keys(*h, history_keys, "[history]");
        HistoryConfig& c = m_.history;
        c.loc = h->loc;
        if (auto level = string_of(*h, "level", false)) {
            if (auto parsed = parse_history_level(*level)) c.level = *parsed;
            else
                d_.error(h->field("level")->loc,
                         fmt::format("unknown history level '{}' (expected off, runs, steps or full){}", *level,
                                     suggest(*level, {"off", "runs", "steps", "full"})));
        }
        if (auto db = string_of(*h, "db", false)) {
            c.loc = h->field("db")->loc;
            if (db->empty()) d_.error(c.loc, "'db' must name a database file");
            else c.db = std::filesystem::path(*db).is_absolute() ? *db : (std::filesystem::path(m_.dir) / *db).string();
        }
        if (auto durability = string_of(*h, "durability", false)) {
            if (*durability == "full") c.durability_full = true;
            else if (*durability != "normal")
                d_.error(h->field("durability")->loc,
                         fmt::format("unknown history durability '{}' (expected normal or full){}", *durability,
                                     suggest(*durability, {"normal", "full"})));
        }
        if (const Node* n = h->field("max_runs")) {
            if (n->kind != Kind::integer || n->integer <= 0) d_.error(n->loc, "'max_runs' must be a positive integer");
            else c.max_runs = n->integer;
        }
        if (const Node* n = h->field("max_age")) {
            std::optional<std::int64_t> seconds;
            if (n->kind == Kind::integer && n->integer > 0) seconds = n->integer;
            else if (n->kind == Kind::string) seconds = parse_history_age(n->str);
            if (!seconds || *seconds <= 0 || *seconds > max_history_age_seconds)
                d_.error(n->loc, fmt::format("'max_age' must be a duration such as \"30d\", \"12h\", \"90m\" or a "
                                             "number of seconds, at most {} (100 years)",
                                             max_history_age_seconds));
            else c.max_age_seconds = *seconds;
        }
    }

    // ---- resources ----------------------------------------------------------------

    void read_resources(const Node& list) {
        if (list.kind != Kind::table) return wrong_kind(list, "resources", "table");
        for (std::size_t i = 0; i < list.fields.size(); ++i) {
            const auto& [name, body] = list.fields[i];
            if (body.kind != Kind::table) {
                wrong_kind(body, "resources." + name, "table");
                continue;
            }
            check_keys(body, resource_keys, fmt::format("resource '{}'", name));
            ResourceDecl r;
            r.name = name;
            r.loc = body.loc;
            auto type = string_of(body, "type", true);
            if (!type) continue;
            r.type = *type;
            if (r.type == "filesystem" || r.type == "http" || r.type == "llm" || r.type == "vector") {
                d_.error(body.field("type")->loc,
                         fmt::format("resource type '{}' is not implemented yet in this version of statenet", r.type));
                continue;
            }
            if (r.type != "sqlite") {
                d_.error(body.field("type")->loc,
                         fmt::format("unknown resource type '{}'{}", r.type,
                                     suggest(r.type, {"sqlite", "filesystem", "http", "llm", "vector"})));
                continue;
            }
            if (auto path = string_of(body, "path", true)) {
                std::filesystem::path p(*path);
                r.path = *path == ":memory:" || p.is_absolute() ? *path : (std::filesystem::path(m_.dir) / p).string();
            }
            if (auto pool = integer_in(body, "pool", 1, max_pool)) r.pool = static_cast<int>(*pool);
            if (auto t = number_in(body, "busy_timeout_ms", 0, max_duration_ms)) r.busy_timeout_ms = *t;
            m_.resources.push_back(std::move(r));
        }
    }

    void use_resources(State& state, const Node& list) {
        std::vector<const Node*> names;
        if (list.kind == Kind::string) names.push_back(&list);
        else if (is_list(list))
            for (const auto& item : list.items) names.push_back(&item);
        else return wrong_kind(list, "resources", "list of resource names");
        std::vector<std::string_view> declared;
        for (const auto& r : m_.resources) declared.push_back(r.name);
        for (const Node* name : names) {
            if (name->kind != Kind::string) {
                wrong_kind(*name, "resources entry", "string");
                continue;
            }
            auto found = std::find(declared.begin(), declared.end(), name->str);
            if (found == declared.end()) {
                d_.error(name->loc, fmt::format("unknown resource '{}' (declare it under [resources.{}]){}", name->str,
                                                name->str, suggest(name->str, declared)));
                continue;
            }
            int id = static_cast<int>(found - declared.begin());
            if (std::find(state.resources.begin(), state.resources.end(), id) == state.resources.end())
                state.resources.push_back(id);
        }
    }

    // ---- networks and states -------------------------------------------------------

    void read_networks(const Node& root) {
        const Node* nets = root.field("networks");
        if (!nets) {
            d_.error(root.loc, "missing required key 'networks'");
            return;
        }
        if (nets->kind != Kind::table || nets->fields.empty()) {
            d_.error(nets->loc, "'networks' must be a table with at least one network");
            return;
        }
        // Two passes: every state must be known before arcs can name them.
        for (const auto& [name, net] : nets->fields) declare_network(name, net);
        any_.resize(m_.networks.size());
        for (std::size_t n = 0; n < m_.networks.size(); ++n) {
            const Node& net = nets->fields[n].second;
            if (net.kind != Kind::table) continue;
            if (const Node* states = net.field("states")) read_state_bodies(static_cast<int>(n), *states);
            if (const Node* any = net.field("any")) read_any(static_cast<int>(n), *any);
        }
        resolve_targets();
        expand_any();
        sort_arcs();
        choose_main(root);
    }

    void declare_network(const std::string& name, const Node& net) {
        Network network;
        network.name = name;
        network.loc = net.loc;
        int index = static_cast<int>(m_.networks.size());
        if (net.kind != Kind::table) {
            wrong_kind(net, "networks." + name, "table");
            m_.networks.push_back(std::move(network));
            return;
        }
        check_keys(net, network_keys, fmt::format("network '{}'", name));
        const Node* states = net.field("states");
        if (!states) {
            d_.error(net.loc, fmt::format("network '{}' has no states", name));
        } else if (is_list(*states) && states->items.empty()) {
            d_.error(states->loc, fmt::format("network '{}' has no states", name));
        } else {
            for_each_state(*states, [&](const std::string& state_name, const Node& body, const Loc& at) {
                if (network.find(state_name) >= 0) {
                    d_.error(at, fmt::format("duplicate state '{}' in network '{}'", state_name, name));
                    return;
                }
                State state;
                state.name = state_name;
                state.qualified = name + "/" + state_name;
                state.network = index;
                state.id = m_.state_count++;
                state.loc = body.loc;
                if (auto start = bool_of(body, "start"); start && *start) {
                    state.start = true;
                    if (network.start >= 0)
                        d_.error(body.field("start")->loc,
                                 fmt::format("network '{}' has two start states: '{}' and '{}'", name,
                                             network.states[network.start].name, state_name));
                    else network.start = static_cast<int>(network.states.size());
                }
                network.states.push_back(std::move(state));
            });
            if (network.start < 0 && !network.states.empty())
                d_.error(net.loc, fmt::format("network '{}' has no start state (mark one with start = true)", name));
        }
        m_.networks.push_back(std::move(network));
    }

    /// States come as a map (TOML, Lua) or as an array of tables with `name` (Lua).
    template <class F>
    void for_each_state(const Node& states, F&& visit) {
        if (states.kind == Kind::table) {
            for (std::size_t i = 0; i < states.fields.size(); ++i) {
                const auto& [name, body] = states.fields[i];
                if (body.kind != Kind::table) {
                    wrong_kind(body, "state " + name, "table");
                    continue;
                }
                visit(name, body, key_loc(states, i));
            }
        } else if (states.kind == Kind::array) {
            for (const auto& body : states.items) {
                if (body.kind != Kind::table) {
                    wrong_kind(body, "state", "table");
                    continue;
                }
                const Node* name = body.field("name");
                if (!name || name->kind != Kind::string) {
                    d_.error(body.loc, "a state in a states list needs a string 'name'");
                    continue;
                }
                visit(name->str, body, name->loc);
            }
        } else {
            wrong_kind(states, "states", "table");
        }
    }

    // Walks the states declared in the first pass: malformed and duplicate entries were
    // reported there and are not visited again.
    void read_state_bodies(int n, const Node& states) {
        auto& declared = m_.networks[n].states;
        for (std::size_t i = 0; i < declared.size(); ++i)
            if (const Node* body = find_body(states, declared[i].name))
                read_state(n, static_cast<int>(i), declared[i], *body);
    }

    static const Node* find_body(const Node& states, const std::string& name) {
        if (states.kind == Kind::table) return states.field(name);
        for (const auto& body : states.items)
            if (const Node* nm = body.field("name"); nm && nm->kind == Kind::string && nm->str == name) return &body;
        return nullptr;
    }

    void read_state(int n, int index, State& state, const Node& body) {
        const std::string& net_name = m_.networks[n].name;
        check_keys(body, state_keys, fmt::format("state '{}/{}'", net_name, state.name));
        string_of(body, "description", false);
        if (auto e = bool_of(body, "end")) state.is_end = *e;
        if (auto e = bool_of(body, "emit")) state.emit = *e;
        if (auto mode = string_of(body, "data_mode", false)) {
            state.mode = data_mode(*mode, *body.field("data_mode"));
            if (state.mode == DataMode::reference) {
                d_.error(
                    body.field("data_mode")->loc,
                    "data_mode 'reference' is set for the whole workflow, not per state (use copy or direct here)");
                state.mode.reset();
            }
        }
        if (const Node* r = body.field("resources")) use_resources(state, *r);
        if (const Node* schema = body.field("schema")) read_schema(state, *schema);
        state.pre_validate = fn_list(body.field("pre_validate"), "pre_validate");
        state.transform = fn_list(body.field("transform"), "transform");
        state.validate = fn_list(body.field("validate"), "validate");
        if (const Node* t = body.field("end_test")) state.end_test = fn_ref(*t, "end_test");
        if (const Node* retry = body.field("retry")) read_retry(state, *retry);
        if (const Node* catchers = body.field("on_error")) read_catchers(n, index, state, *catchers);
        if (const Node* arcs = body.field("arcs")) {
            if (!is_list(*arcs)) return wrong_kind(*arcs, "arcs", "list of tables");
            for (const auto& arc : arcs->items) read_arc(n, index, state, arc);
        }
    }

    /// `[networks.<n>.any]`: arcs = [...] (or directly a list of arcs) that apply from
    /// every non-end state of the network; index -1 marks them in pending targets.
    void read_any(int n, const Node& any) {
        State& holder = any_[n];
        holder.name = "any";
        holder.network = n;
        const Node* arcs = &any;
        if (any.kind == Kind::table && !any.fields.empty()) {
            check_keys(any, any_keys, fmt::format("[networks.{}.any]", m_.networks[n].name));
            arcs = any.field("arcs");
            if (!arcs) return d_.error(any.loc, "[networks.<n>.any] needs 'arcs' (a list of arcs)");
        }
        if (!is_list(*arcs)) return wrong_kind(*arcs, "any arcs", "list of tables");
        for (const auto& arc : arcs->items) read_arc(n, -1, holder, arc);
    }

    /// Copies the `any` arcs into every non-end state, after the state's own arcs.
    void expand_any() {
        for (std::size_t n = 0; n < any_.size(); ++n) {
            if (any_[n].arcs.empty()) continue;
            for (auto& state : m_.networks[n].states) {
                if (state.is_end) continue;
                for (const Arc& shared : any_[n].arcs) {
                    Arc arc = shared;
                    arc.id = m_.arc_count++;
                    arc.index = static_cast<int>(state.arcs.size());
                    arc.from_any = true;
                    state.arcs.push_back(std::move(arc));
                }
                for (int r : any_[n].resources)
                    if (std::find(state.resources.begin(), state.resources.end(), r) == state.resources.end())
                        state.resources.push_back(r);
            }
        }
    }

    void read_schema(State& state, const Node& schema) {
        if (schema.kind != Kind::table) return wrong_kind(schema, "schema", "table of field = type");
        for (const auto& [field, type] : schema.fields) {
            if (type.kind != Kind::string) {
                wrong_kind(type, "schema." + field, "type name string");
                continue;
            }
            SchemaField f{field, type.str, false};
            if (!f.type.empty() && f.type.back() == '?') {
                f.optional = true;
                f.type.pop_back();
            }
            if (std::find(schema_types.begin(), schema_types.end(), f.type) == schema_types.end()) {
                d_.error(type.loc, fmt::format("unknown schema type '{}' for field '{}'{}", type.str, field,
                                               suggest(f.type, schema_types)));
                continue;
            }
            state.schema.push_back(std::move(f));
        }
    }

    std::vector<std::string> error_names(const Node& item, std::string_view what) {
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

    template <class F>
    void for_each_table(const Node& list, std::string_view what, F&& visit) {
        if (list.kind == Kind::table && !list.fields.empty()) return visit(list);  // a single entry
        if (!is_list(list)) return wrong_kind(list, what, "list of tables");
        for (const auto& item : list.items) {
            if (item.kind != Kind::table) wrong_kind(item, what, "table");
            else visit(item);
        }
    }

    void read_retry(State& state, const Node& list) {
        for_each_table(list, "retry", [&](const Node& item) {
            check_keys(item, retry_keys, "retry");
            Retrier r;
            r.errors = error_names(item, "retry");
            if (auto a = integer_in(item, "attempts", 0, max_attempts)) r.attempts = static_cast<int>(*a);
            if (auto v = number_in(item, "interval_ms", 0, max_duration_ms)) r.interval_ms = *v;
            if (auto v = number_in(item, "backoff", 1, max_backoff)) r.backoff = *v;
            if (auto v = number_in(item, "max_delay_ms", 0, max_duration_ms)) r.max_delay_ms = *v;
            if (auto j = string_of(item, "jitter", false)) {
                if (*j == "full") r.full_jitter = true;
                else if (*j != "none")
                    d_.error(item.field("jitter")->loc, fmt::format("unknown jitter '{}' (expected none or full)", *j));
            }
            state.retry.push_back(std::move(r));
        });
    }

    void read_catchers(int n, int index, State& state, const Node& list) {
        for_each_table(list, "on_error", [&](const Node& item) {
            check_keys(item, catcher_keys, "on_error");
            Catcher c;
            c.errors = error_names(item, "on_error");
            const Node* to = item.field("to");
            if (!to || to->kind != Kind::string) d_.error(item.loc, "on_error entry needs 'to' (a state name)");
            else pending_catchers_.push_back({n, index, state.on_error.size(), to});
            state.on_error.push_back(std::move(c));
        });
    }

    void read_arc(int n, int index, State& state, const Node& body) {
        if (body.kind != Kind::table) return wrong_kind(body, "arc", "table");
        check_keys(body, arc_keys, fmt::format("arc of state '{}'", state.name));
        // An arc's resources are acquired with its state: conditions and transforms
        // run in the same step.
        if (const Node* r = body.field("resources")) use_resources(state, *r);
        Arc arc;
        arc.id = m_.arc_count++;
        arc.index = static_cast<int>(state.arcs.size());
        arc.loc = body.loc;
        if (const Node* p = body.field("priority")) {
            if (p->kind != Kind::integer) wrong_kind(*p, "priority", "integer");
            else arc.priority = p->integer;
        }
        read_trigger(arc, body);
        if (const Node* w = body.field("when")) arc.when = fn_ref(*w, "when");
        arc.transform = fn_list(body.field("transform"), "transform");
        PendingTarget target{
            n, index, state.arcs.size(), body.field("to"), body.field("push"), body.field("return_to")};
        if (target.to && target.push) d_.error(body.loc, "an arc has either 'to' or 'push', not both");
        else if (!target.to && !target.push) d_.error(body.loc, "an arc needs 'to' (a state) or 'push' (a network)");
        if (target.return_to && !target.push) d_.error(target.return_to->loc, "'return_to' needs 'push'");
        if (auto iso = string_of(body, "isolation", false)) {
            if (*iso == "share") arc.isolation_copy = false;
            else if (*iso != "copy")
                d_.error(body.field("isolation")->loc, fmt::format("unknown isolation '{}' (expected copy or share){}",
                                                                   *iso, suggest(*iso, {"copy", "share"})));
        }
        arc.map_in = field_map(body.field("map_in"), "map_in");
        arc.map_out = field_map(body.field("map_out"), "map_out");
        for (auto map_key : {"map_in", "map_out"}) {
            const Node* map = body.field(map_key);
            if (map && !target.push) d_.error(map->loc, fmt::format("'{}' needs 'push'", map_key));
            else if (map && !arc.isolation_copy)
                d_.error(
                    map->loc,
                    fmt::format("'{}' needs isolation = \"copy\" (a shared sub-network sees every field)", map_key));
        }
        pending_targets_.push_back(target);
        state.arcs.push_back(std::move(arc));
    }

    /// `on = "event"` or `after_ms = N`: what makes a machine take the arc.
    void read_trigger(Arc& arc, const Node& body) {
        const Node* on = body.field("on");
        const Node* after = body.field("after_ms");
        if (on && after) d_.error(body.loc, "an arc has either 'on' or 'after_ms', not both");
        if (auto event = string_of(body, "on", false)) {
            if (event->empty()) d_.error(on->loc, "'on' must name an event, not be empty");
            arc.on = *event;
        }
        if (auto ms = number_of(body, "after_ms")) {
            if (*ms < 0 || !std::isfinite(*ms)) d_.error(after->loc, "'after_ms' must be a non-negative number");
            else arc.after_ms = *ms;
        }
    }

    FieldMap field_map(const Node* map, std::string_view what) {
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

    // ---- function references -----------------------------------------------------

    std::vector<FnId> fn_list(const Node* n, std::string_view what) {
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

    std::optional<FnId> fn_ref(const Node& n, std::string_view what) {
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

    bool split_name(const std::string& name, FnRef& ref, const Loc& loc, std::string_view what) {
        auto dot = name.rfind('.');
        if (dot == std::string::npos || dot == 0 || dot + 1 == name.size()) {
            d_.error(loc, fmt::format("'{}': bad function reference '{}' (expected \"module.function\")", what, name));
            return false;
        }
        ref.module = name.substr(0, dot);
        ref.function = name.substr(dot + 1);
        return true;
    }

    // ---- cross references -----------------------------------------------------------

    std::vector<std::string_view> state_names(int n) const {
        std::vector<std::string_view> names;
        for (const auto& s : m_.networks[n].states) names.push_back(s.name);
        return names;
    }

    int resolve_state(int n, const Node& ref, std::string_view what) {
        if (ref.kind != Kind::string) {
            wrong_kind(ref, what, "state name");
            return -1;
        }
        int index = m_.networks[n].find(ref.str);
        if (index < 0)
            d_.error(ref.loc, fmt::format("{}: unknown state '{}' in network '{}'{}", what, ref.str,
                                          m_.networks[n].name, suggest(ref.str, state_names(n))));
        return index;
    }

    void resolve_targets() {
        for (const auto& t : pending_targets_) {
            State& owner = t.state < 0 ? any_[t.network] : m_.networks[t.network].states[t.state];
            Arc& arc = owner.arcs[t.arc];
            if (t.to) arc.to = resolve_state(t.network, *t.to, "arc 'to'");
            if (t.push) resolve_push(t, arc);
            if (t.return_to) arc.return_to = resolve_state(t.network, *t.return_to, "'return_to'");
        }
        for (const auto& c : pending_catchers_)
            m_.networks[c.network].states[c.state].on_error[c.catcher].to =
                resolve_state(c.network, *c.to, "on_error 'to'");
    }

    void resolve_push(const PendingTarget& t, Arc& arc) {
        const Node& push = *t.push;
        if (push.kind != Kind::string) return wrong_kind(push, "push", "\"network\" or \"network:state\" string");
        std::string net = push.str, state;
        if (auto colon = net.find(':'); colon != std::string::npos) {
            state = net.substr(colon + 1);
            net.resize(colon);
        }
        std::vector<std::string_view> nets;
        for (std::size_t i = 0; i < m_.networks.size(); ++i) {
            nets.push_back(m_.networks[i].name);
            if (m_.networks[i].name == net) arc.push_network = static_cast<int>(i);
        }
        if (arc.push_network < 0) {
            d_.error(push.loc,
                     fmt::format("push target '{}': unknown network '{}'{}", push.str, net, suggest(net, nets)));
            return;
        }
        if (state.empty()) {
            arc.push_state = m_.networks[arc.push_network].start;
            return;
        }
        arc.push_state = m_.networks[arc.push_network].find(state);
        if (arc.push_state < 0)
            d_.error(push.loc, fmt::format("push target '{}': unknown state '{}' in network '{}'{}", push.str, state,
                                           net, suggest(state, state_names(arc.push_network))));
    }

    void sort_arcs() {
        for (auto& net : m_.networks)
            for (auto& state : net.states) {
                state.arc_order.resize(state.arcs.size());
                for (std::size_t i = 0; i < state.arcs.size(); ++i) state.arc_order[i] = static_cast<int>(i);
                std::stable_sort(state.arc_order.begin(), state.arc_order.end(),
                                 [&](int a, int b) { return state.arcs[a].priority > state.arcs[b].priority; });
            }
    }

    void choose_main(const Node& root) {
        const Node* main = root.field("main");
        if (!main) {
            m_.main = 0;
            return;
        }
        if (main->kind != Kind::string) return wrong_kind(*main, "main", "network name");
        std::vector<std::string_view> nets;
        for (std::size_t i = 0; i < m_.networks.size(); ++i) {
            nets.push_back(m_.networks[i].name);
            if (m_.networks[i].name == main->str) {
                m_.main = static_cast<int>(i);
                return;
            }
        }
        d_.error(main->loc, fmt::format("unknown main network '{}'{}", main->str, suggest(main->str, nets)));
    }
};

}  // namespace

void build_model(const Node& root, Model& model, Diagnostics& diags) { Builder(model, diags).build(root); }

std::string FnRef::describe() const {
    switch (kind) {
    case Kind::named: return module + "." + function;
    case Kind::factory: return module + "." + function + "(" + args.to_json() + ")";
    case Kind::inline_lua: return "lua: " + code;
    case Kind::lua_value: break;
    }
    return fmt::format("function at {}:{}", loc.file, loc.line);
}

}  // namespace statenet::detail
