// The immutable workflow model: networks, states, arcs and function references,
// built once by the loader and shared by every Lua VM that runs the workflow.
#pragma once

#include "model/diagnostics.hpp"
#include "model/http_config.hpp"

#include <statenet/history.hpp>
#include <statenet/stream.hpp>
#include <statenet/value.hpp>
#include <statenet/workflow.hpp>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace statenet::detail {

class SourceSnapshot;

/// A reference to a Lua function, resolved in each VM at start-up.
struct FnRef {
    enum class Kind { named, factory, inline_lua, lua_value };
    Kind kind = Kind::named;
    std::string module;         // named, factory
    std::string function;       // named, factory
    Value args;                 // factory
    std::string code;           // inline_lua
    std::vector<PathKey> path;  // lua_value: where it sits in the Lua workflow table
    Loc loc;

    /// How the graph and messages show it: "orders.is_big", "lua: data.x < 1", ...
    std::string describe() const;
};

/// Index into Model::functions.
using FnId = int;

struct Retrier {
    /// How the delay grows: interval * backoff^n (exponential), interval (fixed),
    /// interval * (n + 1) (linear), or drawn anew each time (random, see retry.cpp).
    enum class Growth { exponential, fixed, linear, random };
    std::vector<std::string> errors;  // names; "*" matches every error
    int attempts = 3;                 // retries after the first try
    double interval_ms = 1000;
    double backoff = 2.0;
    Growth growth = Growth::exponential;
    double max_delay_ms = 0;  // 0 = no cap
    bool full_jitter = false;
};

struct Catcher {
    std::vector<std::string> errors;
    int to = -1;              // state index in the same network
    bool compensate = false;  // run the record's compensations before going there
};

/// `circuit_breaker`: after `failures` failures in a row (of the listed errors) the
/// state refuses records with CircuitOpen for `reset_ms`, then lets one through.
struct Breaker {
    std::vector<std::string> errors{"*"};
    int failures = 5;
    double reset_ms = 30000;
};

/// `cache`: the state's result (its data after its functions) kept in SQLite, keyed by
/// the state and the `key` fields of the data it was entered with (all fields when empty).
struct StateCache {
    std::vector<std::string> key;
    double ttl_ms = 0;
    std::string db;  // resolved against the workflow's directory
    Loc loc;
};

/// A state's recovery strategies besides `retry` and `on_error` (docs/recovery.md).
struct Strategies {
    std::optional<Breaker> breaker;
    int bulkhead = 0;        // records in the state at once, across workers (0 = no cap)
    double deadline_ms = 0;  // time the state's functions may take (0 = none)
    std::vector<FnId> fallback;
    std::vector<FnId> compensate;
    std::optional<StateCache> cache;

    bool any() const {
        return breaker || bulkhead > 0 || deadline_ms > 0 || !fallback.empty() || !compensate.empty() || cache;
    }
};

/// A field mapping parent_field -> child_field (map_in) or child -> parent (map_out).
using FieldMap = std::vector<std::pair<std::string, std::string>>;

struct Arc {
    int id = 0;                // global arc id (index into Model::arcs order of creation)
    int index = 0;             // definition order within its state
    int to = -1;               // target state in the same network (plain arcs)
    bool to_previous = false;  // `to = "@previous"`: the state the record or instance came from
    int push_network = -1;
    int push_state = -1;  // entry state of push_network (its start state by default)
    int return_to = -1;   // state in the calling network, -1 = finish in the sub-network
    bool isolation_copy = true;
    FieldMap map_in, map_out;
    std::optional<FnId> when;
    std::vector<FnId> transform;
    std::int64_t priority = 0;
    std::string on;         // machines: fires only when this event is sent (empty = none)
    double after_ms = -1;   // machines: fires after this long in the state (< 0 = none)
    bool from_any = false;  // copied from the network's `any` arcs
    Loc loc;

    bool is_push() const noexcept { return push_network >= 0; }
    /// Neither an event nor a timer arc: fires at once, for records and machines alike.
    bool immediate() const noexcept { return on.empty() && after_ms < 0; }
};

/// A postgres resource's server and limits.
struct PostgresDecl {
    std::string dsn;                  // libpq conninfo ("host=/run/pg dbname=app user=app")
    double statement_timeout_ms = 0;  // 0 = the server's default
};

/// A `[resources.<name>]` declaration (sqlite, postgres, vector, files).
struct ResourceDecl {
    std::string name;
    std::string type;
    std::string path;  // resolved against the workflow's directory
    int pool = 4;
    double busy_timeout_ms = 5000;
    HttpConfig http;  // type "http" and "llm"
    LlmConfig llm;    // type "llm"
    // vector: the store's dimension and metric (cosine, dot, l2); `path` is its SQLite file
    int dim = 0;
    std::string metric = "cosine";
    // files: the root directory (resolved), created at first use when `create`
    std::string root;
    bool create = true;
    double acquire_timeout_ms = 30000;  // every kind: how long a record waits for a pooled connection
    PostgresDecl postgres;
    Loc loc;

    /// Reached over the network (http, llm): one client per version, bound into every
    /// runner at setup, and records may wait on it (exec/in_flight.hpp).
    bool network() const noexcept { return type == "http" || type == "llm"; }
    /// A record's call may wait on I/O and yield to other records in flight: the network
    /// kinds and postgres (libpq's asynchronous queries).
    bool yields() const noexcept { return network() || type == "postgres"; }
};

struct SchemaField {
    std::string field;
    std::string type;  // string, number, integer, boolean, table, array, any
    bool optional = false;
};

/// `parallel = { branches, join, merge }`: after its own functions the state runs each
/// branch network on a copy of the record, then joins them (docs/fanout.md).
struct Parallel {
    enum class Join { all, any, quorum };
    enum class Merge { namespaced, deep, fn };
    std::vector<int> branches;  // network indices, in the order they run and merge
    Join join = Join::all;
    int quorum = 0;  // Join::quorum: branches that must finish
    Merge merge = Merge::namespaced;
    std::optional<FnId> merge_fn;  // Merge::fn
    Loc loc;
};

/// Where a map state's items come from when they are not a record field: a registered
/// item reader (io/item_readers.hpp) by `type`.
struct MapReader {
    std::string type;   // jsonl, csv, json, file, sqlite, postgres, glob, or a host reader's name
    std::string path;   // file readers: resolved against the workflow's directory; glob: the pattern
    int resource = -1;  // sqlite, postgres: the resource whose database is queried
    std::string query;
    std::string watermark;  // sqlite, postgres: incremental reads above the sink's stored watermark ("" = all rows)
    Value params;           // the reader table as written (a host reader reads its own keys there)
    Source file;            // type "file": the file, its format (or detect), CSV delimiter, XML element, whole
    Loc loc;
};

/// `map = { network, items | reader, batch, max_concurrency, tolerated_failures,
/// result_path | sink, map_in, map_out }`: after its own functions the state runs
/// `network` once per item (or batch) and gathers the results (docs/fanout.md).
struct Map {
    int network = -1;
    std::vector<std::string> items;  // the record field holding the items (dotted path); empty: reader
    std::optional<MapReader> reader;
    std::int64_t batch_items = 0;      // batcher: items per batch (0 = no batcher)
    std::int64_t batch_bytes = 0;      // batcher: JSON bytes per batch (0 = no limit)
    bool batch_flatten = false;        // the sink gets each batch's `items`, one record each
    std::int64_t max_concurrency = 0;  // items in progress at once (0 = the workflow's in_flight)
    std::int64_t workers = 1;          // threads the items run on, each with a runner of its own
    std::int64_t tolerated_count = 0;
    double tolerated_percent = -1;  // >= 0: tolerated_failures given as a percentage
    std::vector<std::string> result_path{"results"};
    std::vector<std::string> failures_path{"failures"};
    std::optional<Sink> sink;  // results go here instead of result_path
    bool replace = false;      // table sinks: rows go to a staging table that replaces the table at the end
    std::string checkpoint;    // file sinks: the checkpoint file (empty = the sink path + ".checkpoint")
    std::string errors;        // failed items as JSONL (empty = only failures_path)
    FieldMap map_in, map_out;
    Loc loc;
};

/// `wait = { signal, timeout_ms }`: after its own functions the record parks until the
/// signal comes (or the timeout passes, SignalTimeout); docs/fanout.md.
struct Wait {
    std::string signal;
    double timeout_ms = 0;  // 0 = no deadline
    Loc loc;
};

struct State {
    std::string name;
    std::string qualified;  // "network/state", as paths and errors show it
    int id = 0;             // global state id
    int network = 0;
    bool start = false;
    bool is_end = false;
    bool emit = true;
    std::optional<DataMode> mode;
    std::vector<SchemaField> schema;
    std::vector<FnId> pre_validate, transform, validate;
    /// Actions: `entry` runs as the state is entered (before its schema and functions),
    /// `exit` as any arc leaves it (before the arc's transform).
    std::vector<FnId> entry, exit;
    std::optional<FnId> end_test;
    std::vector<Arc> arcs;       // definition order
    std::vector<int> arc_order;  // indices into arcs: priority desc, ties by definition
    std::vector<Retrier> retry;
    std::vector<Catcher> on_error;
    Strategies strategies;
    std::optional<Parallel> parallel;
    std::optional<Map> map;
    std::optional<Wait> wait;
    /// Supervision: `children = "module.fn"` derives the instance's desired child specs
    /// in this state (docs/supervision.md).
    std::optional<FnId> children;
    /// Resources the state and its arcs list: acquired on entry, held to record end.
    std::vector<int> resources;
    Loc loc;
};

struct Network {
    std::string name;
    std::vector<State> states;
    int start = -1;
    Loc loc;

    int find(std::string_view state) const {
        for (std::size_t i = 0; i < states.size(); ++i)
            if (states[i].name == state) return static_cast<int>(i);
        return -1;
    }
};

enum class Strategy { depth_first, breadth_first };

/// `[transaction]`: how a record's writes (sqlite resources, reference-mode commit) are
/// grouped into SQLite transactions.
struct TransactionConfig {
    enum class Strategy { single, batch, manual };
    Strategy strategy = Strategy::single;
    std::int64_t batch_size = 1000;
};

/// `[reference]`: where reference-mode records live. Set when `resource` >= 0.
struct ReferenceConfig {
    int resource = -1;  // index into Model::resources
    std::string table;
    std::string key = "id";
    std::string version = "version";
};

/// `[recovery]`: machine instances idle longer than idle_ms receive `event`.
struct Recovery {
    double idle_ms = 0;
    std::string event;  // empty = no recovery declared
};

/// `[retention]`: how long a machine store keeps what it no longer needs (< 0 = forever).
struct Retention {
    double keys_ms = -1;       // idempotency keys, from their first send
    double audit_ms = -1;      // audit rows
    double completed_ms = -1;  // completed instances, from reaching their end state
};

/// `[machines.NAME] workflow = "path"`: a child workflow a supervisor's child specs
/// name (docs/supervision.md).
struct ChildWorkflow {
    std::string name;
    std::string path;  // resolved against the workflow's directory
    Loc loc;
};

/// `[supervision]`: how a supervising instance checks its infrastructure and treats
/// its children (docs/supervision.md).
struct SupervisionConfig {
    std::optional<FnId> health;         // (data, ctx) -> ok[, reason]; run every tick
    double removal_timeout_ms = 30000;  // a removed child not at an end state by then is deleted
    std::int64_t breaker_failures = 3;  // consecutive health failures that open the breaker
    double backoff_ms = 1000;           // first open period; doubles up to max_backoff_ms
    double max_backoff_ms = 60000;
    std::int64_t max_restarts = 3;  // restarts within restart_window_ms before child_failed
    double restart_window_ms = 60000;
    Loc loc;
};

/// `[actions.NAME]`: a function machine transitions start with ctx.start_action(NAME, args),
/// run on a worker pool outside the event; its outcome comes back as an event.
struct MachineAction {
    std::string name;
    FnId run = -1;              // called as run(args, ctx)
    double timeout_ms = 30000;  // then the instance gets action_timeout
    bool rerun = true;          // in flight when the process died: run again (false: action_failed)
    Loc loc;
};

/// `[history]`, with the load options' overrides applied.
struct HistoryConfig {
    HistoryLevel level = HistoryLevel::off;
    std::string db;                    // resolved against the workflow's directory
    bool durability_full = false;      // synchronous=FULL instead of NORMAL
    std::int64_t max_runs = 0;         // 0 = keep every run
    std::int64_t max_age_seconds = 0;  // 0 = no age limit
    Loc loc;                           // where diagnostics about the database point
};

/// The workflow's sandbox settings (docs/security.md): what it trusts, its own limits.
struct SandboxSettings {
    std::vector<std::string> trust;  // names from lua/sandbox.hpp's `trustable`
    Loc trust_loc;
    std::optional<double> call_ms;    // [limits] call_ms
    std::optional<double> memory_mb;  // [limits] memory_mb
    Loc limits_loc;
};

struct Model {
    std::string name;
    std::string version;
    std::string file;                      // the workflow file as given
    std::string dir;                       // its directory
    bool lua_source = false;               // a .lua workflow (functions may be values in it)
    std::vector<std::string> module_dirs;  // workflow dir, then `scripts` dirs
    DataMode mode = DataMode::copy;
    Strategy strategy = Strategy::depth_first;
    std::int64_t max_transitions = 1000;
    double timeout_ms = 0;
    /// `in_flight`: records a worker keeps in progress while they wait on network
    /// resources (0 = the default, 64; see exec/in_flight.hpp).
    std::int64_t in_flight = 0;
    SandboxSettings sandbox;
    TransactionConfig transaction;
    ReferenceConfig reference;
    Value vars = Value::object();
    /// The `[params]` values the load resolved (ctx.params, statenet.params).
    Value params = Value::object();
    /// The `[profiles.NAME]` overlay applied; empty for none.
    std::string profile;
    std::vector<Network> networks;
    int main = 0;
    std::vector<FnRef> functions;
    std::vector<ResourceDecl> resources;
    Recovery recovery;
    Retention retention;
    std::vector<ChildWorkflow> machines;
    SupervisionConfig supervision;
    std::vector<MachineAction> actions;  // `[actions]`, in definition order
    /// `[branches] join, merge`: breadth-first branches joined into one record (its
    /// `branches` list stays empty); docs/fanout.md.
    std::optional<Parallel> branch_join;
    HistoryConfig history;
    /// Where records waiting for a signal are parked (the history database when history
    /// is on, else LoadOptions::park_db); empty when no state waits.
    std::string park_db;
    /// The Lua files this version's VMs load, read once (lua/source_snapshot.hpp).
    std::shared_ptr<SourceSnapshot> sources;
    std::string scripts_hash;  // the workflow file and its Lua modules (see history/scripts_hash.hpp)
    int state_count = 0;       // global state ids are 0..state_count-1
    int arc_count = 0;

    /// module_dirs after the workflow's own directory: its `scripts` dirs (and the
    /// engine's module paths), whose `.lua` files count as the version's code.
    std::vector<std::string> scripts_dirs() const {
        return module_dirs.empty() ? module_dirs : std::vector<std::string>(module_dirs.begin() + 1, module_dirs.end());
    }
    const State& state(int network, int index) const { return networks[network].states[index]; }
    /// Some resource's calls yield (http, llm, postgres): records may wait on it, so
    /// several records in flight per worker pay off.
    bool uses_yielding_resources() const {
        for (const auto& r : resources)
            if (r.yields()) return true;
        return false;
    }
    /// Some state waits for a signal (`wait`): records may park.
    bool has_wait() const {
        for (const auto& net : networks)
            for (const auto& s : net.states)
                if (s.wait) return true;
        return false;
    }
    /// Some state derives children or the workflow declares child workflows: its
    /// instances need a supervisor (statenet::Supervisor).
    bool supervises() const {
        if (!machines.empty() || supervision.health) return true;
        for (const auto& net : networks)
            for (const auto& s : net.states)
                if (s.children) return true;
        return false;
    }
    const std::string& qualified(int network, int index) const { return networks[network].states[index].qualified; }
    /// Some state declares a recovery strategy besides retry and on_error.
    bool has_strategies() const {
        for (const auto& net : networks)
            for (const auto& s : net.states)
                if (s.strategies.any()) return true;
        return false;
    }
};

/// Push depth limit (SPEC section 5).
inline constexpr int max_push_depth = 16;

/// The ranges of a workflow's numeric keys, checked at load (docs/workflow-format.md).
/// Durations in ms stop at 2^31 - 1 (about 24.8 days): SQLite's busy timeout is an int.
inline constexpr double max_duration_ms = 2147483647.0;
inline constexpr std::int64_t max_count = 2147483647;  // max_transitions, batch_size
inline constexpr std::int64_t max_attempts = 1000000;
inline constexpr double max_backoff = 1000.0;
inline constexpr std::int64_t max_pool = 1024;
/// A wait's timeout may be long (approvals take days): up to 10 years.
inline constexpr double max_wait_ms = 10.0 * 366 * 86400 * 1000;
inline constexpr std::int64_t max_history_age_seconds = 100LL * 365 * 86400;

}  // namespace statenet::detail

namespace statenet::detail {
/// The model as Graphviz dot or Mermaid text: every network, state and arc, with
/// conditions, priorities, push arcs (dashed) and on_error routes visible.
std::string render_graph(const Model& model, GraphFormat format);
/// The same with a recorded run drawn over it: visited states filled (failed ones red)
/// and each transition taken as a bold edge numbered by its step.
std::string render_run_graph(const Model& model, GraphFormat format, const std::vector<HistoryStep>& steps);
}  // namespace statenet::detail
