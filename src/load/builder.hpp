// The model builder's internals: one Builder reads a document tree into a Model; its
// members live in builder_fields.cpp (typed, located reads), builder_sections.cpp (the
// workflow's top-level keys and sections) and model_builder.cpp (networks, states, arcs).
#pragma once

#include "load/loader.hpp"
#include "load/suggest.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace statenet::detail {

using Kind = Node::Kind;
using Keys = std::vector<std::string_view>;

inline const Keys top_keys = {"name",     "version",         "description", "main",      "scripts",  "data_mode",
                              "strategy", "max_transitions", "timeout_ms",  "in_flight", "vars",     "transaction",
                              "history",  "resources",       "reference",   "networks",  "recovery", "trust",
                              "limits",   "retention",       "branches",    "actions",   "machines", "supervision"};
inline const Keys network_keys = {"states", "any", "description"};
inline const Keys state_keys = {
    "name",        "start",       "end",      "end_test",   "schema",    "pre_validate", "transform",
    "validate",    "arcs",        "retry",    "on_error",   "data_mode", "emit",         "resources",
    "description", "parallel",    "map",      "wait",       "entry",     "exit",         "circuit_breaker",
    "bulkhead",    "deadline_ms", "fallback", "compensate", "cache",     "children"};
inline const Keys parallel_keys = {"branches", "join", "merge"};
inline const Keys branch_join_keys = {"join", "merge", "description"};
inline const Keys map_keys = {
    "network",     "items",         "reader", "batch",      "max_concurrency", "tolerated_failures",
    "result_path", "failures_path", "sink",   "checkpoint", "errors",          "map_in",
    "map_out",     "workers"};
inline const Keys wait_keys = {"signal", "timeout_ms"};
inline const Keys arc_keys = {"to",        "push",     "return_to", "isolation", "map_in",    "map_out",    "when",
                              "transform", "priority", "on",        "after_ms",  "resources", "description"};
inline const Keys resource_keys = {"type", "path", "pool", "busy_timeout_ms", "acquire_timeout_ms", "description"};
inline const Keys postgres_keys = {"type", "dsn", "pool", "acquire_timeout_ms", "statement_timeout_ms", "description"};
inline const Keys vector_resource_keys = {"type", "path", "dim", "metric", "description"};
inline const Keys files_resource_keys = {"type", "root", "create", "description"};
inline const Keys retry_keys = {"errors", "attempts", "interval_ms", "backoff", "max_delay_ms", "jitter"};
inline const Keys catcher_keys = {"errors", "to", "compensate"};
inline const Keys any_keys = {"arcs", "description"};
inline const Keys recovery_keys = {"idle_ms", "event", "description"};
inline const Keys machine_decl_keys = {"workflow", "description"};
inline const Keys supervision_keys = {"health",         "removal_timeout_ms", "breaker_failures",  "backoff_ms",
                                      "max_backoff_ms", "max_restarts",       "restart_window_ms", "description"};
inline const Keys action_keys = {"run", "timeout_ms", "on_restart", "description"};
inline const Keys retention_keys = {"keys_ms", "audit_ms", "completed_ms", "description"};
inline const Keys transaction_keys = {"strategy", "batch_size"};
inline const Keys reference_keys = {"resource", "table", "key", "version"};
inline const Keys history_keys = {"level", "db", "durability", "max_runs", "max_age"};
inline const Keys schema_types = {"string", "number", "integer", "boolean", "table", "object", "array", "any"};

/// Lua has no empty-list literal: `{}` reads as a table with no keys, so wherever a
/// list is expected an empty table is an empty list.
bool is_list(const Node& n);
/// Where key `i` of `table` is written.
const Loc& key_loc(const Node& table, std::size_t i);
/// A document value as a Value (functions become null).
Value to_value(const Node& n);
/// A value as a document node located at `at` (null has no node: false, `out` untouched).
bool to_node(const Value& v, const Loc& at, Node& out);

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

    void build(const Node& root);

private:
    Model& m_;
    Diagnostics& d_;
    std::vector<PendingTarget> pending_targets_;
    std::vector<PendingCatcher> pending_catchers_;
    std::vector<State> any_;  // per network: its `any` arcs, held by a pseudo-state

    void check_keys(const Node& table, const Keys& allowed, std::string_view what);
    static std::string_view article(std::string_view noun);
    void wrong_kind(const Node& n, std::string_view what, std::string_view expected);
    std::optional<std::string> string_of(const Node& table, std::string_view key, bool required);
    std::optional<double> number_of(const Node& table, std::string_view key);
    /// The integer at `key` when it is within [min, max]; otherwise reported, naming the range.
    std::optional<std::int64_t> integer_in(const Node& table, std::string_view key, std::int64_t min, std::int64_t max);
    /// The number at `key` when it is finite and within [min, max]; otherwise reported,
    /// naming the range (an integer is a number too).
    std::optional<double> number_in(const Node& table, std::string_view key, double min, double max);
    std::optional<bool> bool_of(const Node& table, std::string_view key);
    DataMode data_mode(const std::string& text, const Node& at);
    void read_scripts(const Node& root);
    void read_transaction(const Node* t);

    // `[reference]` names a declared sqlite resource, so it is read after [resources].
    void read_reference(const Node& root);
    void read_recovery(const Node* r);
    void read_join(Parallel& p, const Node& body, std::size_t max_quorum);
    void read_branch_join(const Node* b);
    void read_retention(const Node* r);
    // `[machines.NAME]` and `[supervision]` (builder_supervision.cpp).
    void read_child_workflows(const Node* m);
    void read_supervision(const Node* s);
    /// `[actions]`: `NAME = function reference` or `[actions.NAME] run, timeout_ms, on_restart`.
    void read_actions(const Node* a);
    void read_history(const Node* h);

    // ---- resources ----------------------------------------------------------------

    void read_resources(const Node& list);
    // `type = "http"` and `type = "llm"` (builder_http.cpp).
    void read_http_resource(ResourceDecl& r, const Node& body);
    void read_llm_resource(ResourceDecl& r, const Node& body);
    void read_http_config(HttpConfig& c, const Node& body, bool base_required);
    void read_http_auth(HttpAuth& auth, const Node& node);
    void require_env(const std::string& name, const Node& at);
    void read_vector_resource(const Node& body, ResourceDecl& r);  // builder_vector.cpp
    void read_files_resource(const Node& body, ResourceDecl& r);   // builder_files.cpp
    /// A positive `pool` and `acquire_timeout_ms`, shared by every resource kind.
    void read_pool_limits(const Node& body, ResourceDecl& r);
    /// `[resources.NAME] type = "postgres"` (builder_postgres.cpp).
    void read_postgres(const Node& body, ResourceDecl& r);
    void use_resources(State& state, const Node& list);

    // ---- networks and states -------------------------------------------------------

    void read_networks(const Node& root);
    void declare_network(const std::string& name, const Node& net);

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
    void read_state_bodies(int n, const Node& states);
    static const Node* find_body(const Node& states, const std::string& name);
    void read_state(int n, int index, State& state, const Node& body);

    /// `[networks.<n>.any]`: arcs = [...] (or directly a list of arcs) that apply from
    /// every non-end state of the network; index -1 marks them in pending targets.
    void read_any(int n, const Node& any);

    /// Copies the `any` arcs into every non-end state, after the state's own arcs.
    void expand_any();
    void read_schema(State& state, const Node& schema);
    std::vector<std::string> error_names(const Node& item, std::string_view what);

    template <class F>
    void for_each_table(const Node& list, std::string_view what, F&& visit) {
        if (list.kind == Kind::table && !list.fields.empty()) return visit(list);  // a single entry
        if (!is_list(list)) return wrong_kind(list, what, "list of tables");
        for (const auto& item : list.items) {
            if (item.kind != Kind::table) wrong_kind(item, what, "table");
            else visit(item);
        }
    }

    void read_retry(State& state, const Node& list);
    // Recovery strategies and retry growth (builder_strategies.cpp).
    void read_backoff(Retrier& r, const Node& item);
    void read_strategies(State& state, const Node& body);
    void read_cache(State& state, const Node& c);
    void read_catchers(int n, int index, State& state, const Node& list);
    void read_arc(int n, int index, State& state, const Node& body);

    /// `on = "event"` or `after_ms = N`: what makes a machine take the arc.
    void read_trigger(Arc& arc, const Node& body);
    void read_parallel(State& state, const Node& body);
    // `map = { ... }` (builder_map.cpp).
    void read_map(State& state, const Node& body);
    void read_map_reader(Map& m, const Node& body);
    void read_file_reader(MapReader& r, const Node& body);
    void read_map_sink(Map& m, const Node& body);
    void read_tolerance(Map& m, const Node& t);
    std::vector<std::string> field_path(const Node& table, std::string_view key);
    int resource_of(const Node& table, std::string_view key, std::string_view type);
    std::string workflow_path(const std::string& path) const;
    /// `wait = { signal = "name", timeout_ms = N }` (builder_wait.cpp), and what it
    /// cannot be combined with, once every network is known.
    void read_wait(State& state, const Node& body);
    void check_waits();
    FieldMap field_map(const Node* map, std::string_view what);

    // ---- function references -----------------------------------------------------

    std::vector<FnId> fn_list(const Node* n, std::string_view what);
    std::optional<FnId> fn_ref(const Node& n, std::string_view what);
    bool split_name(const std::string& name, FnRef& ref, const Loc& loc, std::string_view what);

    // ---- cross references -----------------------------------------------------------

    std::vector<std::string_view> state_names(int n) const;
    int resolve_state(int n, const Node& ref, std::string_view what);
    void resolve_targets();
    void resolve_push(const PendingTarget& t, Arc& arc);
    void sort_arcs();
    void choose_main(const Node& root);
};

}  // namespace statenet::detail
