// Runner: executes records through the model, one Lua dispatcher call per state.
#include "exec/runner.hpp"

#include "exec/reference.hpp"
#include "exec/retry.hpp"
#include "exec/run_id.hpp"
#include "json/json_internal.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <stdexcept>

namespace statenet::detail {

namespace {

// Step outcomes of statenet/runtime.lua (keep in sync).
constexpr int step_end = 0;
constexpr int step_arc = 1;
constexpr int step_fail = 2;
constexpr int step_branches = 3;

// splitmix64: run ids need uniqueness, not a cryptographic source; seeded from
// std::random_device per runner, so processes and runners do not share a sequence.
std::uint64_t next_id_bits(std::uint64_t& state) {
    std::uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

std::uint64_t random_seed() {
    std::random_device device;
    return (static_cast<std::uint64_t>(device()) << 32) ^ device();
}

std::string to_text(lua_State* L, int index) {
    std::size_t len = 0;
    const char* s = lua_tolstring(L, index, &len);
    return s ? std::string(s, len) : std::string(luaL_typename(L, index));
}

int lua_log(lua_State* L) {
    auto* engine = static_cast<EngineImpl*>(lua_touserdata(L, lua_upvalueindex(1)));
    auto* refs = static_cast<ConvertRefs*>(lua_touserdata(L, lua_upvalueindex(2)));
    return guarded_call(L, "ctx.log: ", [&] {
        std::string level = to_text(L, 1), state = to_text(L, 2), message = to_text(L, 3);
        Value fields = lua_isnoneornil(L, 4) ? Value::object() : read_value(L, 4, *refs);
        LogLevel lvl = level == "debug"   ? LogLevel::debug
                       : level == "warn"  ? LogLevel::warn
                       : level == "error" ? LogLevel::error
                                          : LogLevel::info;
        if (engine->log) engine->log(LogRecord{lvl, state, message, fields});
        return 0;
    });
}

}  // namespace

struct Runner::Frame {
    int network;  // the calling network
    int state;    // the pushing state
    const Arc* arc;
    int parent_slot;
    int attempt;
    std::vector<int> retry_counts;
    int step;  // the pushing step (history)
};

struct Runner::Branch {
    int slot = 0;
    int network = 0;
    int state = 0;
    std::vector<Frame> frames;
    std::vector<const std::string*> path;  // each state entered, as its model's `network/state`
    bool entered = false;
    int attempt = 0;
    std::vector<int> retry_counts;
    std::optional<ErrorInfo> entry_error;  // ctx.error while in an on_error target
    Status status = Status::running;
    const State* final_state = nullptr;  // where it finished
    bool emit = true;
    std::optional<ErrorInfo> error;
    // History: this branch's current step, and how the next one is reached.
    int step = 0;
    int parent = 0;
    StepVia via = StepVia::start;

    /// A fresh branch at `state` of `network` for the record in `slot`, keeping the
    /// capacity of its vectors.
    void reset(int record_slot, int in_network, int at_state) {
        slot = record_slot;
        network = in_network;
        state = at_state;
        frames.clear();
        path.clear();
        entered = false;
        attempt = 0;
        retry_counts.clear();
        entry_error.reset();
        status = Status::running;
        final_state = nullptr;
        emit = true;
        error.reset();
        step = parent = 0;
        via = StepVia::start;
    }
};

struct Runner::Run {
    bool copy_default = true;
    bool deep = false;  // copies must be deep (direct states mutate nested tables)
    bool breadth_first = false;
    double deadline = 0;    // clock ms, 0 = none
    int first_attempt = 0;  // ctx.attempt in the start state (a re-run after Conflict)
    std::size_t transitions = 0;
    bool fatal = false;  // MaxTransitions / Timeout: stop every branch
    RunObserver* observer = nullptr;
    RunObserver* steps = nullptr;  // the observer, when it records steps (else steps cost nothing)
    std::chrono::steady_clock::time_point step_started;
};

Runner::Runner(std::shared_ptr<const Model> model, std::shared_ptr<EngineImpl> engine,
               std::shared_ptr<ResourcePools> pools, Diagnostics& diags)
    : model_(std::move(model)),
      engine_(std::move(engine)),
      pools_(std::move(pools)),
      vm_(model_->module_dirs, engine_->stdlib_dir, model_->sources.get()),
      tx_(*model_, pools_, [this](const std::string& message) { warn(message); }),
      rng_(engine_->options.seed + engine_->runner_seq.fetch_add(1)),
      ids_(random_seed()) {
    lua_State* L = vm_.state();
    StackGuard guard(L);
    convert_.array_mt = vm_.ref_runtime("array_mt");
    convert_.materialize = vm_.ref_runtime("materialize");
    step_ = vm_.ref_runtime("step");
    step_all_ = vm_.ref_runtime("step_all");
    begin_ = vm_.ref_runtime("begin");
    get_ = vm_.ref_runtime("get");
    push_ = vm_.ref_runtime("push");
    pop_ = vm_.ref_runtime("pop");
    restore_ = vm_.ref_runtime("restore");
    clone_ = vm_.ref_runtime("clone");
    free_ = vm_.ref_runtime("free");
    branch_out_ = vm_.ref_runtime("branch_out");
    changes_ = vm_.ref_runtime("changes");
    touch_ = vm_.ref_runtime("touch");
    step_chain_ = vm_.ref_runtime("step_chain");
    chain_ = vm_.ref_runtime("chain");
    state_index_.resize(static_cast<std::size_t>(model_->state_count));
    for (const auto& net : model_->networks)
        for (std::size_t i = 0; i < net.states.size(); ++i)
            state_index_[static_cast<std::size_t>(net.states[i].id)] = static_cast<int>(i);
    begin_json_ = vm_.ref_runtime("begin_json");
    step_changes_ = vm_.ref_runtime("step_changes");

    // statenet.null is a NULL light userdata, like cjson.null.
    vm_.push_runtime("api");
    lua_pushlightuserdata(L, nullptr);
    lua_setfield(L, -2, "null");
    lua_pop(L, 1);

    vm_.push_runtime("setup");
    push_value(L, model_->vars, convert_);
    lua_pushlightuserdata(L, engine_.get());
    lua_pushlightuserdata(L, &convert_);
    lua_pushcclosure(L, lua_log, 2);
    if (lua_pcall(L, 2, 0, 0) != 0) throw std::logic_error("runtime setup failed: " + pop_error_text(L));

    for (const auto& net : model_->networks)
        for (const auto& s : net.states)
            if (s.mode == DataMode::direct) has_direct_state_ = true;

    vm_.push_runtime("ctx");
    lua_getfield(L, -1, "resources");
    resources_table_ = luaL_ref(L, LUA_REGISTRYINDEX);
    for (const bool commit : {true, false}) {
        lua_pushlightuserdata(L, this);
        lua_pushboolean(L, commit);
        lua_pushcclosure(L, lua_commit_or_rollback, 2);
        lua_setfield(L, -2, commit ? "commit" : "rollback");
    }
    lua_pop(L, 1);
    vm_.push_runtime("set_run_id_source");
    lua_pushlightuserdata(L, this);
    lua_pushcclosure(L, lua_run_id, 1);
    lua_call(L, 1, 0);
    vm_.push_runtime("set_json_source");
    lua_pushlightuserdata(L, reinterpret_cast<void*>(&json_field_for_ffi));
    lua_pushlightuserdata(L, &json_);
    lua_pushlightuserdata(L, this);
    lua_pushcclosure(L, lua_json_table, 1);
    lua_pushlightuserdata(L, this);
    lua_pushcclosure(L, lua_json_all, 1);
    lua_call(L, 4, 0);
    if (model_->reference.resource >= 0) {
        vm_.push_runtime("set_reference_loader");
        lua_pushlightuserdata(L, this);
        lua_pushcclosure(L, lua_load_row, 1);
        lua_call(L, 1, 0);
    }

    resolve_functions(diags);
    if (diags.empty()) define_plans();
}

Runner::~Runner() = default;

// ---- resources and transactions ----------------------------------------------------
// A record's connections are acquired when it first enters a state that lists them;
// Transactions decides when their work commits (single, batch, manual). Each step runs
// inside a savepoint, so a failed (or retried) step's writes roll back with its data.

SqliteConnection& Runner::hold(int id) {
    bool fresh = false;
    SqliteConnection& connection = tx_.acquire(id, fresh);
    if (fresh) {
        lua_State* L = vm_.state();
        StackGuard guard(L);
        lua_rawgeti(L, LUA_REGISTRYINDEX, resources_table_);
        push_sqlite_binding(L, &connection, convert_);
        lua_setfield(L, -2, model_->resources[static_cast<std::size_t>(id)].name.c_str());
    }
    return connection;
}

std::optional<ErrorInfo> Runner::acquire_resources(const State& s, const std::string& where) {
    for (int id : s.resources) {
        try {
            hold(id);
        } catch (const std::exception& e) {
            return ErrorInfo{"ResourceError", e.what(), where};
        }
    }
    return std::nullopt;
}

void Runner::unbind(const std::vector<int>& released) noexcept {
    lua_State* L = vm_.state();
    for (int id : released) {
        lua_rawgeti(L, LUA_REGISTRYINDEX, resources_table_);
        lua_pushnil(L);
        lua_setfield(L, -2, model_->resources[static_cast<std::size_t>(id)].name.c_str());
        lua_pop(L, 1);
    }
}

void Runner::warn(const std::string& message) {
    static const Value no_fields = Value::object();
    if (engine_->log) engine_->log(LogRecord{LogLevel::warn, "", message, no_fields});
}

std::optional<std::string> Runner::flush() {
    std::vector<int> released;
    auto error = tx_.flush(released);
    unbind(released);
    return error;
}

// ctx.commit() / ctx.rollback(): the manual strategy's controls. Upvalue 1 is the
// runner, upvalue 2 says which (a boolean: true = commit).
int Runner::lua_commit_or_rollback(lua_State* L) {
    auto* self = static_cast<Runner*>(lua_touserdata(L, lua_upvalueindex(1)));
    const bool commit = lua_toboolean(L, lua_upvalueindex(2)) != 0;
    return guarded_call(L, commit ? "ctx.commit: " : "ctx.rollback: ", [&] {
        if (commit) self->tx_.commit_now();
        else self->tx_.rollback_now();
        return 0;
    });
}

// The reference-mode loader: reads the record's row, once, on first touch. It reads on
// the held connection when the record (or its batch) holds one, so it sees the
// record's own writes; else through a pooled connection outside any transaction, so
// concurrent runs only meet at the version check.
int Runner::lua_load_row(lua_State* L) {
    auto* self = static_cast<Runner*>(lua_touserdata(L, lua_upvalueindex(1)));
    const ReferenceConfig& config = self->model_->reference;
    const char* name = "ResourceError";
    std::string failure;
    try {
        std::optional<Value> row;
        if (SqliteConnection* held = self->tx_.held(config.resource)) {
            row = load_reference_row(*held, config, self->ref_key_);
        } else {
            auto connection = self->pools_->acquire(config.resource);
            try {
                row = load_reference_row(*connection, config, self->ref_key_);
            } catch (...) {
                self->pools_->release(config.resource, std::move(connection));
                throw;
            }
            self->pools_->release(config.resource, std::move(connection));
        }
        if (row) {
            push_value(L, *row, self->convert_);
            self->ref_row_ = std::move(row);
            return 1;
        }
        name = "NotFound";
        self->ref_missing_ = true;
        failure = fmt::format("no row with {} = {} in table '{}'", config.key, self->ref_key_.to_json(), config.table);
    } catch (const std::exception& e) {
        failure = e.what();
    }
    lua_createtable(L, 0, 2);
    lua_pushstring(L, name);
    lua_setfield(L, -2, "name");
    lua_pushlstring(L, failure.data(), failure.size());
    lua_setfield(L, -2, "message");
    return lua_error(L);
}

void Runner::resolve_functions(Diagnostics& diags) {
    lua_State* L = vm_.state();
    StackGuard guard(L);
    if (model_->lua_source) {
        vm_.push_runtime("load_workflow");
        if (model_->sources->load(L, model_->file) != 0) {
            diags.error(Loc{model_->file, 1, 1}, to_text(L, -1));
            return;
        }
        lua_call(L, 1, 2);
        if (lua_isnil(L, -2)) {
            diags.error(Loc{model_->file, 1, 1}, to_text(L, -1));
            return;
        }
        lua_pop(L, 2);
    }
    lua_createtable(L, static_cast<int>(model_->functions.size()), 0);
    int table = lua_gettop(L);
    for (std::size_t i = 0; i < model_->functions.size(); ++i) {
        const FnRef& fn = model_->functions[i];
        vm_.push_runtime("resolve");
        switch (fn.kind) {
        case FnRef::Kind::named:
            lua_pushliteral(L, "named");
            lua_pushstring(L, fn.module.c_str());
            lua_pushstring(L, fn.function.c_str());
            lua_pushnil(L);
            break;
        case FnRef::Kind::factory:
            lua_pushliteral(L, "factory");
            lua_pushstring(L, fn.module.c_str());
            lua_pushstring(L, fn.function.c_str());
            push_value(L, fn.args.is_null() ? Value::object() : fn.args, convert_);
            break;
        case FnRef::Kind::inline_lua:
            lua_pushliteral(L, "inline");
            lua_pushlstring(L, fn.code.data(), fn.code.size());
            lua_pushnil(L);
            lua_pushnil(L);
            break;
        case FnRef::Kind::lua_value:
            lua_pushliteral(L, "value");
            lua_createtable(L, static_cast<int>(fn.path.size()), 0);
            for (std::size_t k = 0; k < fn.path.size(); ++k) {
                if (fn.path[k].is_index) lua_pushnumber(L, static_cast<lua_Number>(fn.path[k].index));
                else lua_pushstring(L, fn.path[k].key.c_str());
                lua_rawseti(L, -2, static_cast<int>(k + 1));
            }
            lua_pushnil(L);
            lua_pushnil(L);
            break;
        }
        lua_pushstring(L, fn.loc.file.c_str());
        lua_pushinteger(L, fn.loc.line);
        if (lua_pcall(L, 6, 2, 0) != 0) {
            diags.error(fn.loc, pop_error_text(L));
            continue;
        }
        if (lua_isnil(L, -2)) {
            diags.error(fn.loc, to_text(L, -1));
            lua_pop(L, 2);
            continue;
        }
        lua_pop(L, 1);
        lua_rawseti(L, table, static_cast<int>(i + 1));
    }
    lua_setfield(L, LUA_REGISTRYINDEX, "statenet.functions");
}

void Runner::push_fn_list(const std::vector<FnId>& ids, const char* field, const char* names_field) {
    lua_State* L = vm_.state();
    lua_getfield(L, LUA_REGISTRYINDEX, "statenet.functions");
    int fns = lua_gettop(L);
    lua_createtable(L, static_cast<int>(ids.size()), 0);
    lua_createtable(L, static_cast<int>(ids.size()), 0);
    for (std::size_t i = 0; i < ids.size(); ++i) {
        lua_rawgeti(L, fns, ids[i] + 1);
        lua_rawseti(L, -3, static_cast<int>(i + 1));
        std::string name = model_->functions[ids[i]].describe();
        lua_pushlstring(L, name.data(), name.size());
        lua_rawseti(L, -2, static_cast<int>(i + 1));
    }
    lua_setfield(L, fns - 1, names_field);
    lua_setfield(L, fns - 1, field);
    lua_pop(L, 1);
}

void Runner::define_plans() {
    lua_State* L = vm_.state();
    StackGuard guard(L);
    auto push_fn = [&](FnId id) {
        lua_getfield(L, LUA_REGISTRYINDEX, "statenet.functions");
        lua_rawgeti(L, -1, id + 1);
        lua_remove(L, -2);
    };
    for (const auto& net : model_->networks) {
        for (const auto& s : net.states) {
            vm_.push_runtime("define_state");
            lua_pushinteger(L, s.id);
            lua_createtable(L, 0, 16);
            lua_pushstring(L, s.name.c_str());
            lua_setfield(L, -2, "name");
            lua_pushstring(L, net.name.c_str());
            lua_setfield(L, -2, "network");
            if (s.mode) {
                lua_pushboolean(L, *s.mode == DataMode::copy);
                lua_setfield(L, -2, "copy");
            }
            if (!s.schema.empty()) {
                lua_createtable(L, static_cast<int>(s.schema.size()), 0);
                for (std::size_t i = 0; i < s.schema.size(); ++i) {
                    lua_createtable(L, 3, 0);
                    lua_pushstring(L, s.schema[i].field.c_str());
                    lua_rawseti(L, -2, 1);
                    lua_pushstring(L, s.schema[i].type.c_str());
                    lua_rawseti(L, -2, 2);
                    lua_pushboolean(L, s.schema[i].optional);
                    lua_rawseti(L, -2, 3);
                    lua_rawseti(L, -2, static_cast<int>(i + 1));
                }
                lua_setfield(L, -2, "schema");
            }
            push_fn_list(s.pre_validate, "pre", "pre_names");
            push_fn_list(s.transform, "tf", "tf_names");
            push_fn_list(s.validate, "post", "post_names");
            lua_pushboolean(L, s.is_end);
            lua_setfield(L, -2, "is_end");
            if (s.end_test) {
                push_fn(*s.end_test);
                lua_setfield(L, -2, "end_test");
            }
            lua_createtable(L, static_cast<int>(s.arcs.size()), 0);
            int planned = 0;
            for (int index : s.arc_order) {
                const Arc& arc = s.arcs[index];
                // Event and timer arcs fire only for machines (src/machine/), never for records.
                if (!arc.immediate()) continue;
                lua_createtable(L, 0, 5);
                if (arc.when) {
                    push_fn(*arc.when);
                    lua_setfield(L, -2, "when");
                }
                push_fn_list(arc.transform, "tf", "tf_names");
                lua_pushinteger(L, arc.index);
                lua_setfield(L, -2, "index");
                lua_pushboolean(L, arc.is_push());
                lua_setfield(L, -2, "push");
                lua_rawseti(L, -2, ++planned);
            }
            lua_setfield(L, -2, "arcs");
            // Plain arcs into states that acquire no resources: step_chain may go on
            // into them without coming back to C++ (keyed by the arc's index).
            lua_createtable(L, 0, static_cast<int>(s.arcs.size()));
            for (const auto& arc : s.arcs) {
                if (arc.is_push() || !arc.immediate() || arc.to < 0) continue;
                const State& target = net.states[static_cast<std::size_t>(arc.to)];
                if (!target.resources.empty()) continue;
                lua_pushinteger(L, target.id);
                lua_rawseti(L, -2, arc.index);
            }
            lua_setfield(L, -2, "chain");
            lua_call(L, 2, 0);

            for (const auto& arc : s.arcs) {
                if (!arc.is_push()) continue;
                vm_.push_runtime("define_arc");
                lua_pushinteger(L, arc.id);
                lua_createtable(L, 0, 3);
                lua_pushboolean(L, arc.isolation_copy);
                lua_setfield(L, -2, "copy");
                auto push_map = [&](const FieldMap& map, const char* field) {
                    if (map.empty()) return;
                    lua_createtable(L, static_cast<int>(map.size() * 2), 0);
                    int i = 1;
                    for (const auto& [from, to] : map) {
                        lua_pushstring(L, from.c_str());
                        lua_rawseti(L, -2, i++);
                        lua_pushstring(L, to.c_str());
                        lua_rawseti(L, -2, i++);
                    }
                    lua_setfield(L, -2, field);
                };
                push_map(arc.map_in, "map_in");
                push_map(arc.map_out, "map_out");
                lua_call(L, 2, 0);
            }
        }
    }
}

// ---- small Lua calls -------------------------------------------------------------

int Runner::call_int(int ref, std::initializer_list<double> args) {
    lua_State* L = vm_.state();
    lua_rawgeti(L, LUA_REGISTRYINDEX, ref);
    for (double a : args) lua_pushnumber(L, a);
    if (lua_pcall(L, static_cast<int>(args.size()), 1, 0) != 0)
        throw std::logic_error("statenet runtime: " + pop_error_text(L));
    int result = static_cast<int>(lua_tointeger(L, -1));
    lua_pop(L, 1);
    return result;
}

void Runner::call_void(int ref, std::initializer_list<double> args) {
    lua_State* L = vm_.state();
    lua_rawgeti(L, LUA_REGISTRYINDEX, ref);
    for (double a : args) lua_pushnumber(L, a);
    if (lua_pcall(L, static_cast<int>(args.size()), 0, 0) != 0)
        throw std::logic_error("statenet runtime: " + pop_error_text(L));
}

Value Runner::read_slot(int slot, const Value& order) {
    lua_State* L = vm_.state();
    StackGuard guard(L);
    lua_rawgeti(L, LUA_REGISTRYINDEX, get_);
    lua_pushinteger(L, slot);
    lua_call(L, 1, 1);
    return read_value(L, -1, convert_, &order);
}

Value Runner::read_record(int slot, Value& input) {
    lua_State* L = vm_.state();
    StackGuard guard(L);
    lua_rawgeti(L, LUA_REGISTRYINDEX, changes_);
    lua_pushinteger(L, slot);
    lua_call(L, 1, 3);  // whole, dirty keys, the record's root
    if (lua_toboolean(L, -3)) return read_value(L, -1, convert_, &input);
    apply_changes(L, -1, -2, convert_, input);
    return std::move(input);
}

// ---- execution ---------------------------------------------------------------------

bool Runner::count_transition(Run& run, Branch& b) {
    if (++run.transitions <= static_cast<std::size_t>(model_->max_transitions)) return true;
    run.fatal = true;
    record_failure(
        run, b,
        {"MaxTransitions", fmt::format("more than {} transitions (max_transitions)", model_->max_transitions),
         model_->qualified(b.network, b.state)});
    return false;
}

Runner::Status Runner::record_failure(Run& run, Branch& b, ErrorInfo error) {
    if (run.steps && b.step) run.steps->step_failed(b.step, error);
    b.error = std::move(error);
    b.status = Status::failed;
    return b.status;
}

ErrorInfo Runner::pcall_error(std::string state) {
    lua_State* L = vm_.state();
    ErrorInfo error{"LuaError", "", std::move(state)};
    if (lua_istable(L, -1)) {
        lua_getfield(L, -1, "name");
        if (!lua_isnil(L, -1)) error.name = to_text(L, -1);
        lua_getfield(L, -2, "message");
        error.message = lua_isnil(L, -1) ? error.name : to_text(L, -1);
        lua_pop(L, 2);
    } else {
        error.message = to_text(L, -1);
    }
    lua_pop(L, 1);
    return error;
}

Runner::Status Runner::step(Run& run, Branch& b, std::vector<Branch>& spawned) {
    const State& s = model_->state(b.network, b.state);
    if (!b.entered) {
        b.entered = true;
        b.path.push_back(&model_->qualified(b.network, b.state));
        b.attempt = b.path.size() == 1 ? run.first_attempt : 0;
        b.retry_counts.assign(s.retry.size(), 0);
    }
    if (run.deadline > 0 && engine_->clock->now_ms() > run.deadline) {
        run.fatal = true;
        return record_failure(
            run, b, {"Timeout", fmt::format("record exceeded timeout_ms = {}", model_->timeout_ms), *b.path.back()});
    }
    if (run.steps) {
        b.step = run.steps->step_started(b.parent, b.via, s, b.attempt, static_cast<int>(b.frames.size()));
    }
    if (!s.resources.empty())
        if (auto error = acquire_resources(s, *b.path.back())) return fail(run, b, std::move(*error));
    const bool guarded = !tx_.held_ids().empty();
    if (guarded) {
        try {
            tx_.begin_step();
        } catch (const std::exception& e) {
            return fail(run, b, {"ResourceError", e.what(), *b.path.back()});
        }
    }
    // Without history, timeouts, held connections or breadth-first branches, nothing
    // needs C++ between two plain states: step_chain runs on through them in one call.
    const bool chained = !run.steps && !run.breadth_first && run.deadline == 0 && !guarded;
    lua_State* L = vm_.state();
    StackGuard guard(L);
    lua_rawgeti(L, LUA_REGISTRYINDEX, run.breadth_first ? step_all_ : chained ? step_chain_ : step_);
    lua_pushinteger(L, s.id);
    lua_pushinteger(L, b.slot);
    lua_pushinteger(L, b.attempt);
    if (b.entry_error) {
        lua_pushlstring(L, b.entry_error->name.data(), b.entry_error->name.size());
        lua_pushlstring(L, b.entry_error->message.data(), b.entry_error->message.size());
        lua_pushlstring(L, b.entry_error->state.data(), b.entry_error->state.size());
    } else {
        lua_pushnil(L);
        lua_pushnil(L);
        lua_pushnil(L);
    }
    int nargs = 6;
    if (run.breadth_first) {
        lua_pushboolean(L, run.deep);
        ++nargs;
    } else if (chained) {
        lua_pushinteger(L,
                        static_cast<lua_Integer>(model_->max_transitions) - static_cast<lua_Integer>(run.transitions));
        ++nargs;
    }
    const bool raised = lua_pcall(L, nargs, chained ? 4 : 3, 0) != 0;
    if (chained && !raised) {
        enter_chained(run, b, static_cast<int>(lua_tointeger(L, -1)));
        lua_pop(L, 1);
    }
    const int code = raised ? step_fail : static_cast<int>(lua_tointeger(L, -3));
    if (guarded) tx_.end_step(code == step_fail);
    const State& last = model_->state(b.network, b.state);  // s, unless step_chain went on
    if (raised || code == step_fail) {
        ErrorInfo error =
            raised ? pcall_error(*b.path.back()) : ErrorInfo{to_text(L, -2), to_text(L, -1), *b.path.back()};
        if (!raised && error.name == "NoTransition" &&
            std::any_of(last.arcs.begin(), last.arcs.end(), [](const Arc& arc) { return !arc.immediate(); }))
            error.message += " (its 'on' and 'after_ms' arcs fire only for machines)";
        observe_step_end(run, b, StepEnd::failed, &error);
        return fail(run, b, std::move(error));
    }
    observe_step_end(run, b, code == step_end ? StepEnd::end : StepEnd::ok, nullptr);
    switch (code) {
    case step_end: return finish(run, b);
    case step_arc: return take_arc(run, b, last.arcs[static_cast<std::size_t>(lua_tointeger(L, -2))]);
    case step_branches: break;
    default: throw std::logic_error("statenet runtime: bad step result");
    }
    int n = static_cast<int>(lua_tointeger(L, -2));
    int old_slot = b.slot;
    const Branch proto = b;
    for (int i = 1; i <= n; ++i) {
        lua_rawgeti(L, LUA_REGISTRYINDEX, branch_out_);
        lua_pushinteger(L, i);
        lua_call(L, 1, 2);
        int slot = static_cast<int>(lua_tointeger(L, -2));
        const Arc& arc = s.arcs[static_cast<std::size_t>(lua_tointeger(L, -1))];
        lua_pop(L, 2);
        Branch* target = &b;
        if (i > 1) {
            // A new branch needs its own copy of every caller's data it may return to.
            target = &spawned.emplace_back(proto);
            for (auto& frame : target->frames)
                frame.parent_slot = call_int(clone_, {double(frame.parent_slot), run.deep ? 1.0 : 0.0});
        }
        target->slot = slot;
        target->status = take_arc(run, *target, arc);
    }
    call_void(free_, {double(old_slot)});
    return b.status;
}

// The states step_chain went on into, after the one it was called for: each is an arc
// taken and a state entered, as take_arc and step would have recorded them.
void Runner::enter_chained(Run& run, Branch& b, int count) {
    if (count == 0) return;
    lua_State* L = vm_.state();
    lua_rawgeti(L, LUA_REGISTRYINDEX, chain_);
    for (int i = 1; i <= count; ++i) {
        lua_rawgeti(L, -1, i);
        const int sid = static_cast<int>(lua_tointeger(L, -1));
        lua_pop(L, 1);
        ++run.transitions;  // within the budget step_chain was given
        b.state = state_index_[static_cast<std::size_t>(sid)];
        b.path.push_back(&model_->qualified(b.network, b.state));
        b.attempt = 0;
        b.retry_counts.assign(model_->state(b.network, b.state).retry.size(), 0);
        b.entry_error.reset();
    }
    lua_pop(L, 1);
}

Runner::Status Runner::take_arc(Run& run, Branch& b, const Arc& arc) {
    if (!count_transition(run, b)) return Status::failed;
    b.entry_error.reset();
    if (!arc.is_push()) {
        observe_route(run, b, b.network, arc.to, StepVia::arc);
        b.state = arc.to;
        b.entered = false;
        return Status::running;
    }
    if (b.frames.size() >= static_cast<std::size_t>(max_push_depth)) {
        call_void(restore_, {double(b.slot)});
        return fail(run, b,
                    {"PushFailed",
                     fmt::format("push depth limit ({}) exceeded pushing into network '{}'", max_push_depth,
                                 model_->networks[arc.push_network].name),
                     *b.path.back()});
    }
    int child = call_int(push_, {double(b.slot), double(arc.id), run.deep ? 1.0 : 0.0});
    observe_route(run, b, arc.push_network, arc.push_state, StepVia::push);
    b.frames.push_back(Frame{b.network, b.state, &arc, b.slot, b.attempt, b.retry_counts, b.step});
    b.slot = child;
    b.network = arc.push_network;
    b.state = arc.push_state;
    b.entered = false;
    return Status::running;
}

Runner::Status Runner::fail(Run& run, Branch& b, ErrorInfo error) {
    for (;;) {
        if (run.steps && b.step) run.steps->step_failed(b.step, error);
        const State& s = model_->state(b.network, b.state);
        for (std::size_t i = 0; i < s.retry.size(); ++i) {
            const Retrier& r = s.retry[i];
            if (!error_matches(r.errors, error.name)) continue;
            // Step Functions: the first matching retrier decides; once it is spent,
            // the error goes on to on_error.
            if (b.retry_counts[i] < r.attempts) {
                double delay = retry_delay_ms(r, b.retry_counts[i], rng_);
                if (run.deadline > 0 && engine_->clock->now_ms() + delay > run.deadline) {
                    run.fatal = true;
                    return record_failure(
                        run, b,
                        {"Timeout",
                         fmt::format("record would exceed timeout_ms = {} waiting to retry after {}: {}",
                                     model_->timeout_ms, error.name, error.message),
                         error.state});
                }
                if (delay > 0) engine_->clock->sleep_ms(delay);
                ++b.retry_counts[i];
                ++b.attempt;
                observe_route(run, b, b.network, b.state, StepVia::retry);
                return Status::running;
            }
            break;
        }
        for (const Catcher& c : s.on_error) {
            if (!error_matches(c.errors, error.name)) continue;
            if (!count_transition(run, b)) return Status::failed;
            observe_route(run, b, b.network, c.to, StepVia::on_error);
            b.state = c.to;
            b.entered = false;
            b.entry_error = std::move(error);
            return Status::running;
        }
        if (b.frames.empty()) return record_failure(run, b, std::move(error));
        // The sub-network failed: the pushing state fails, rolled back to its entry.
        Frame frame = std::move(b.frames.back());
        b.frames.pop_back();
        call_void(free_, {double(b.slot)});
        call_void(restore_, {double(frame.parent_slot)});
        b.slot = frame.parent_slot;
        b.network = frame.network;
        b.state = frame.state;
        b.attempt = frame.attempt;
        b.retry_counts = std::move(frame.retry_counts);
        b.step = frame.step;
        b.entered = true;
        b.entry_error.reset();
    }
}

Runner::Status Runner::finish(Run& run, Branch& b) {
    const State* end_state = &model_->state(b.network, b.state);
    const bool emit = end_state->emit;
    while (!b.frames.empty()) {
        Frame frame = std::move(b.frames.back());
        b.frames.pop_back();
        call_void(pop_, {double(b.slot), double(frame.parent_slot), double(frame.arc->id)});
        b.slot = frame.parent_slot;
        b.network = frame.network;
        b.state = frame.state;
        if (frame.arc->return_to >= 0) {
            b.step = frame.step;
            if (!count_transition(run, b)) return Status::failed;
            b.parent = frame.step;
            b.via = StepVia::ret;
            b.state = frame.arc->return_to;
            b.entered = false;
            b.entry_error.reset();
            return Status::running;
        }
    }
    b.final_state = end_state;
    b.emit = emit;
    b.status = Status::finished;
    return b.status;
}

void Runner::set_observer(std::unique_ptr<RunObserver> observer) { observer_ = std::move(observer); }

void Runner::track_changes(bool on) {
    lua_State* L = vm_.state();
    StackGuard guard(L);
    vm_.push_runtime("track_steps");
    lua_pushboolean(L, on);
    lua_call(L, 1, 0);
    tracking_changes_ = on;
}

void Runner::observe_step_end(Run& run, const Branch& b, StepEnd end, const ErrorInfo* error) {
    if (!run.steps) return;
    // One clock read per step: a step starts when the one before it ended (or the run
    // began), so the routing in between counts to the next step.
    const auto now = std::chrono::steady_clock::now();
    const auto took = now - run.step_started;
    run.step_started = now;
    if (end == StepEnd::failed || !tracking_changes_) {
        run.steps->step_ended(b.step, end, error, took, nullptr);
        return;
    }
    lua_State* L = vm_.state();
    StackGuard guard(L);
    lua_rawgeti(L, LUA_REGISTRYINDEX, step_changes_);
    lua_call(L, 0, 1);
    Value changes;
    try {
        changes = read_value(L, -1, convert_);
    } catch (const ConvertError& e) {
        changes = Value::object({{"unreadable", e.what()}});
    }
    run.steps->step_ended(b.step, end, nullptr, took, &changes);
}

void Runner::observe_route(Run& run, Branch& b, int network, int state, StepVia via) {
    if (!run.steps) return;
    run.steps->routed(b.step, model_->state(network, state));
    b.parent = b.step;
    b.via = via;
}

Result Runner::run(Value input, const RunOptions& options, RunObserver* observer) {
    const DataMode mode = options.mode.value_or(model_->mode);
    if (mode != DataMode::reference) return run_once(std::move(input), mode, 0, options, observer);
    if (model_->reference.resource < 0)
        throw std::invalid_argument("data mode 'reference' needs a [reference] table in the workflow");
    // A Conflict at the commit means the row changed since it was read: re-running the
    // record from its start state reads it again. The start state's retriers decide.
    const auto started = std::chrono::steady_clock::now();
    const State& start = model_->state(model_->main, model_->networks[model_->main].start);
    std::vector<int> counts(start.retry.size(), 0);
    for (int attempt = 0;; ++attempt) {
        Result result = run_once(input, mode, attempt, options, observer);
        result.duration = std::chrono::steady_clock::now() - started;
        if (!commit_conflict_) return result;
        bool again = false;
        for (std::size_t i = 0; i < start.retry.size(); ++i) {
            const Retrier& r = start.retry[i];
            if (!error_matches(r.errors, "Conflict")) continue;
            if (counts[i] < r.attempts) {
                const double delay = retry_delay_ms(r, counts[i], rng_);
                if (delay > 0) engine_->clock->sleep_ms(delay);
                ++counts[i];
                again = true;
            }
            break;
        }
        if (!again) return result;
    }
}

Result Runner::run_json(std::string_view text, std::string& out, const RunOptions& options, bool lean) {
    out.clear();
    const DataMode mode = options.mode.value_or(model_->mode);
    // The lazy path keeps one record's JSON; reference records and breadth-first
    // branches, and text simdjson alone cannot take, go the Value way.
    if (mode != DataMode::reference && model_->strategy != Strategy::breadth_first && json_.parse(text)) {
        // History at level full keeps the input as a value (the run itself ignores it).
        Value input = observer_ && observer_->wants_changes() ? Value::from_json(text) : Value();
        return run_once(std::move(input), mode, 0, options, nullptr, &out, lean);
    }
    Result result = run(Value::from_json(text), options);
    if (result.ok && result.emit) out = result.data.to_json();
    return result;
}

const RunId& Runner::run_bits() {
    if (!run_bits_drawn_) {
        run_bits_.hi = next_id_bits(ids_);
        run_bits_.lo = next_id_bits(ids_);
        run_bits_drawn_ = true;
    }
    return run_bits_;
}

const std::string& Runner::run_id() {
    if (!run_id_made_) {
        run_id_.resize(RunId::text_length);
        run_bits().format(run_id_.data());
        run_id_made_ = true;
    }
    return run_id_;
}

// ctx.run_id, the first time a function reads it in a run where it was not made yet.
int Runner::lua_run_id(lua_State* L) {
    auto* self = static_cast<Runner*>(lua_touserdata(L, lua_upvalueindex(1)));
    const std::string& id = self->run_id();
    lua_pushlstring(L, id.data(), id.size());
    return 1;
}

Result Runner::run_once(Value input, DataMode mode, int attempt, const RunOptions& options, RunObserver* observer,
                        std::string* json_out, bool lean) {
    // A lean run's duration is read by no one (and a clock read is ~2% of a small record).
    const bool timed = !lean || observer || observer_;
    const auto started = timed ? std::chrono::steady_clock::now() : std::chrono::steady_clock::time_point{};
    auto took = [&] { return timed ? std::chrono::steady_clock::now() - started : std::chrono::nanoseconds{0}; };
    const bool reference = mode == DataMode::reference;
    commit_conflict_ = false;
    ref_missing_ = false;
    ref_row_.reset();
    Run run;
    run.copy_default = mode != DataMode::direct;
    run.deep = mode == DataMode::direct || has_direct_state_;
    run.breadth_first = model_->strategy == Strategy::breadth_first;
    run.first_attempt = attempt;
    if (model_->timeout_ms > 0) run.deadline = engine_->clock->now_ms() + model_->timeout_ms;

    Result result;
    run_bits_drawn_ = run_id_made_ = false;
    run.observer = observer ? observer : observer_.get();
    if (!lean) result.run_id = run_id();
    if (run.observer) {
        if (run.observer->wants_changes() != tracking_changes_) track_changes(run.observer->wants_changes());
        if (run.observer->wants_steps()) {
            run.steps = run.observer;
            run.step_started = std::chrono::steady_clock::now();
        }
        run.observer->run_started(run_bits(), started, input, options);  // the history formats its text
    }
    auto reject = [&](std::string name, std::string message) {
        result.error = ErrorInfo{std::move(name), std::move(message), ""};
        result.data = std::move(input);
        result.duration = took();
        if (run.observer) run.observer->run_finished(result, nullptr, nullptr);
        return result;
    };
    if (reference) {
        try {
            ref_key_ = reference_key(model_->reference, input);
        } catch (const std::invalid_argument& e) {
            return reject("SchemaViolation", e.what());
        }
    } else if (!json_out && !input.is_object()) {
        return reject("SchemaViolation",
                      fmt::format("a record must be a JSON object, not {}", type_name(input.type())));
    } else if (!json_out && exceeds_nesting_limit(input)) {
        return reject("SchemaViolation", fmt::format("record is nested deeper than {} levels", max_nesting_depth));
    }
    try {
        tx_.begin_record();
    } catch (const std::exception& e) {
        return reject("ResourceError", e.what());
    }
    lua_State* L = vm_.state();
    StackGuard guard(L);

    int begin_args = 3;
    if (reference) {
        vm_.push_runtime("begin_reference");
        lua_pushlstring(L, model_->reference.key.data(), model_->reference.key.size());
        push_value(L, ref_key_, convert_);
        ++begin_args;
    } else if (json_out) {
        lua_rawgeti(L, LUA_REGISTRYINDEX, begin_json_);
    } else {
        lua_rawgeti(L, LUA_REGISTRYINDEX, begin_);
        push_value(L, input, convert_);
    }
    if (run_id_made_) lua_pushlstring(L, run_id_.data(), run_id_.size());
    else lua_pushnil(L);  // made if a function reads ctx.run_id
    lua_pushboolean(L, run.copy_default);
    if (json_out) lua_pushinteger(L, static_cast<lua_Integer>(json_.size()));
    if (lua_pcall(L, begin_args, 1, 0) != 0) throw std::logic_error("statenet runtime: " + pop_error_text(L));
    const int first_slot = static_cast<int>(lua_tointeger(L, -1));
    lua_pop(L, 1);
    const int start = model_->networks[model_->main].start;

    // Depth-first: one branch, stepped until it ends (no vectors of branches, and the
    // branch's own vectors are reused from the last run). Breadth-first: level by level.
    std::vector<Branch> finished, failed;
    const Branch* primary = nullptr;
    const Branch* culprit = nullptr;
    if (!run.breadth_first) {
        if (!single_) single_ = std::make_unique<Branch>();
        Branch& b = *single_;
        b.reset(first_slot, model_->main, start);
        do b.status = step(run, b, no_spawn_);
        while (b.status == Status::running);
        (b.status == Status::finished ? primary : culprit) = &b;
    } else {
        std::vector<Branch> current(1);
        current.front().reset(first_slot, model_->main, start);
        while (!current.empty() && !run.fatal) {
            std::vector<Branch> next;
            for (auto& b : current) {
                std::vector<Branch> spawned;
                b.status = step(run, b, spawned);
                spawned.insert(spawned.begin(), std::move(b));
                for (auto& s : spawned) {
                    if (s.status == Status::running) next.push_back(std::move(s));
                    else if (s.status == Status::finished) finished.push_back(std::move(s));
                    else failed.push_back(std::move(s));
                }
                if (run.fatal) break;
            }
            current = std::move(next);
        }
        // A fatal error (MaxTransitions, Timeout) is the last failure; otherwise the
        // first branch to fail explains the record.
        if (!finished.empty() && !run.fatal) primary = &finished.front();
        else culprit = run.fatal ? &failed.back() : &failed.front();
    }
    auto path_of = [&](const Branch& b) {
        std::vector<std::string> path;
        if (lean) return path;
        path.reserve(b.path.size());
        for (const std::string* state : b.path) path.push_back(*state);
        return path;
    };

    // The lazy JSON path leaves Result::data null; history at level full wants it.
    const bool keep_output = json_out && run.observer && run.observer->wants_changes();
    Value history_output;
    try {
        if (primary) {
            result.ok = true;
            result.final_state = primary->final_state->qualified;
            result.path = path_of(*primary);
            result.emit = primary->emit;
            if (reference) {
                // The output is the whole row: load it if no function touched it.
                // With no row (an on_error route ended the record), the output is the key.
                if (!ref_missing_) {
                    lua_rawgeti(L, LUA_REGISTRYINDEX, touch_);
                    lua_pushinteger(L, primary->slot);
                    if (lua_pcall(L, 1, 0, 0) != 0) {
                        result.ok = false;
                        result.error = pcall_error(result.final_state);
                    }
                }
                result.data = read_slot(primary->slot, reference_order(input));
            } else if (json_out) {
                if (result.emit) write_json_record(primary->slot, *json_out);
                if (keep_output) history_output = read_whole(primary->slot, input);
            } else {
                result.data = read_record(primary->slot, input);
            }
            if (run.breadth_first)
                for (const auto& b : finished)
                    result.branches.push_back(
                        {b.final_state->qualified,
                         &b == primary ? result.data : read_slot(b.slot, reference ? reference_order(input) : input),
                         path_of(b)});
        } else {
            result.error = culprit->error;
            result.final_state = culprit->error ? culprit->error->state : "";
            result.path = path_of(*culprit);
            if (!json_out)
                result.data =
                    reference ? read_slot(culprit->slot, reference_order(input)) : read_record(culprit->slot, input);
            else if (keep_output) history_output = read_whole(culprit->slot, input);
        }
    } catch (const ConvertError& e) {
        result.ok = false;
        result.error =
            ErrorInfo{"LuaError", std::string("the record cannot leave Lua: ") + e.what(), result.final_state};
        result.branches.clear();
    }
    finish_transaction(result);
    // The runtime's slots are cleared when the next record begins.
    result.transitions = run.transitions;
    result.duration = took();
    if (run.observer)
        run.observer->run_finished(result, result.ok && primary ? primary->final_state : nullptr,
                                   keep_output ? &history_output : nullptr);
    return result;
}

Value Runner::read_whole(int slot, const Value& order) {
    call_void(touch_, {double(slot)});
    return read_slot(slot, order);
}

// The output line: the input's fields in their order, each copied from the input text
// as it came unless the run changed it, then the fields the run added, by name. The
// changed and added values are written as JSON straight from Lua while the run's dirty
// keys are walked once. When anything may have changed (direct mode, a replaced record,
// a push), or a key is not a string, the whole record is read back instead.
void Runner::write_json_record(int slot, std::string& out) {
    lua_State* L = vm_.state();
    StackGuard guard(L);
    lua_rawgeti(L, LUA_REGISTRYINDEX, changes_);
    lua_pushinteger(L, slot);
    lua_call(L, 1, 3);  // whole, dirty keys, the record's root
    const int root = lua_gettop(L), dirty = root - 1;
    auto whole = [&] { append_json(out, read_whole(slot, json_.key_order())); };
    if (lua_toboolean(L, dirty - 1)) return whole();
    const std::size_t n = json_.size();
    field_change_.assign(n, FieldChange::kept);
    if (field_text_.size() < n) field_text_.resize(n);
    std::size_t added = 0;
    lua_pushnil(L);
    while (lua_next(L, dirty) != 0) {
        lua_pop(L, 1);  // the key stays for lua_next
        if (lua_type(L, -1) != LUA_TSTRING) {
            lua_pop(L, 1);
            return whole();
        }
        std::size_t length = 0;
        const char* key = lua_tolstring(L, -1, &length);
        lua_pushvalue(L, -1);
        lua_rawget(L, root);
        const bool removed = lua_isnil(L, -1);
        const int i = json_.find(std::string_view(key, length));
        std::string* text = nullptr;
        if (i >= 0) {
            const auto at = static_cast<std::size_t>(i);
            field_change_[at] = removed ? FieldChange::removed : FieldChange::changed;
            text = &field_text_[at];
        } else if (!removed) {
            if (added_.size() <= added) added_.emplace_back();
            added_[added].first = std::string_view(key, length);  // the dirty table keeps the key alive
            text = &added_[added++].second;
        }
        if (text && !removed) {
            text->clear();
            // A changed object keeps its members in their input order.
            const Value old = i >= 0 && lua_istable(L, -1) ? json_.field_value(static_cast<std::size_t>(i)) : Value();
            append_lua_json(*text, L, -1, convert_, &old);
        }
        lua_pop(L, 1);
    }
    std::sort(added_.begin(), added_.begin() + static_cast<std::ptrdiff_t>(added),
              [](const auto& a, const auto& b) { return a.first < b.first; });
    bool first = true;
    out += '{';
    for (std::size_t i = 0; i < n;) {
        if (field_change_[i] == FieldChange::removed) {
            ++i;
            continue;
        }
        if (!first) out += ',';
        first = false;
        if (field_change_[i] == FieldChange::changed) {
            json_.append_key(out, i);
            out += ':';
            out += field_text_[i];
            ++i;
            continue;
        }
        std::size_t j = i + 1;
        while (j < n && field_change_[j] == FieldChange::kept) ++j;
        json_.append_fields(out, i, j);
        i = j;
    }
    for (std::size_t k = 0; k < added; ++k) {
        if (!first) out += ',';
        first = false;
        append_json_string(out, added_[k].first);
        out += ':';
        out += added_[k].second;
    }
    out += '}';
}

// The JSON record's object and array fields, and the whole record (for `pairs` and
// copies), pushed through the Lua C API; scalars go through the runtime's FFI call.
int Runner::lua_json_table(lua_State* L) {
    auto* self = static_cast<Runner*>(lua_touserdata(L, lua_upvalueindex(1)));
    return guarded_call(L, "", [&] {
        std::size_t length = 0;
        const char* key = luaL_checklstring(L, 1, &length);
        self->json_.push_field(L, std::string_view(key, length), self->convert_);
        return 1;
    });
}

int Runner::lua_json_all(lua_State* L) {
    auto* self = static_cast<Runner*>(lua_touserdata(L, lua_upvalueindex(1)));
    return guarded_call(L, "", [&] {
        self->json_.push(L, self->convert_);
        return 1;
    });
}

const Value& Runner::reference_order(const Value& input) const {
    static const Value none = Value::object();
    if (ref_row_) return *ref_row_;
    return input.is_object() ? input : none;
}

void Runner::finish_transaction(Result& result) {
    if (result.ok && model_->reference.resource >= 0 && ref_row_) commit_reference(result);
    std::vector<int> released;
    auto failure = tx_.end_record(result.ok, released);
    unbind(released);
    if (failure) {
        result.ok = false;
        result.error = ErrorInfo{"ResourceError", std::move(*failure), result.final_state};
        result.branches.clear();
    }
}

void Runner::commit_reference(Result& result) {
    const ReferenceConfig& config = model_->reference;
    auto fail_with = [&](const char* name, std::string message) {
        result.ok = false;
        result.error = ErrorInfo{name, std::move(message), result.final_state};
        result.branches.clear();
    };
    try {
        // Manual strategy: the functions' uncommitted writes are discarded first; the
        // row itself is the engine's write and commits on its own.
        const bool manual = model_->transaction.strategy == TransactionConfig::Strategy::manual;
        if (manual) tx_.discard_uncommitted();
        SqliteConnection& connection = hold(config.resource);
        switch (write_reference_row(connection, config, *ref_row_, result.data)) {
        case ReferenceWrite::conflict:
            commit_conflict_ = true;
            return fail_with("Conflict", fmt::format("row {} = {} of table '{}' changed since it was read ({} {})",
                                                     config.key, ref_key_.to_json(), config.table, config.version,
                                                     (*ref_row_)[config.version].to_json()));
        case ReferenceWrite::written:
        case ReferenceWrite::unchanged: break;
        }
        if (manual) tx_.commit_now();
    } catch (const std::invalid_argument& e) {
        fail_with("SchemaViolation", e.what());
    } catch (const std::exception& e) {
        fail_with("ResourceError", e.what());
    }
}

}  // namespace statenet::detail
