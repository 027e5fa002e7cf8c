// Runner: one Lua VM loaded with one workflow, executing records one at a time.
#pragma once

#include "exec/run_id.hpp"
#include "exec/run_observer.hpp"
#include "exec/services.hpp"
#include "exec/transactions.hpp"
#include "lua/convert.hpp"
#include "lua/json_record.hpp"
#include "lua/vm.hpp"
#include "model/model.hpp"
#include "resources/pool.hpp"

#include <statenet/result.hpp>
#include <statenet/workflow.hpp>

#include <cstdint>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace statenet::detail {

class Runner {
public:
    /// Loads the workflow's functions into a new VM; problems (unknown module or
    /// function, Lua syntax errors, failing factories) go to `diags`.
    Runner(std::shared_ptr<const Model> model, std::shared_ptr<EngineImpl> engine, std::shared_ptr<ResourcePools> pools,
           Diagnostics& diags);
    ~Runner();
    Runner(const Runner&) = delete;
    Runner& operator=(const Runner&) = delete;

    /// Runs one record. Record failures are in the result; throws only on engine bugs.
    /// In reference mode a Conflict at the record's commit re-runs the record from its
    /// start state (with a fresh read) as the start state's `retry` allows.
    /// `observer` (when given) replaces the runner's own for this record.
    Result run(Value input, const RunOptions& options, RunObserver* observer = nullptr);

    /// Reports every record this runner runs to `observer` (execution history).
    void set_observer(std::unique_ptr<RunObserver> observer);

    /// Runs one record given as JSON text; its data goes to `out` as one line of compact
    /// JSON (when it succeeds and is emitted), with the fields no function changed copied
    /// from the input. Result::data stays null. Throws JsonError for malformed text.
    /// `lean`: the caller reads only ok, emit and error, so Result::path and
    /// Result::run_id stay empty (an observer gets the id's bits; Lua's ctx.run_id is
    /// made when a function first reads it).
    Result run_json(std::string_view text, std::string& out, const RunOptions& options, bool lean = false);

    /// Commits an open batch transaction. Returns an error message when that fails.
    std::optional<std::string> flush();

    /// The runner's Lua VM, with the workflow's functions resolved and its state plans
    /// defined: the machine dispatcher (src/machine/) runs states through it.
    LuaVm& machine_vm() noexcept { return vm_; }
    const ConvertRefs& convert_refs() const noexcept { return convert_; }

    const Model& model() const noexcept { return *model_; }

private:
    struct Frame;
    struct Branch;
    struct Run;
    enum class Status { running, finished, failed };

    std::shared_ptr<const Model> model_;
    std::shared_ptr<EngineImpl> engine_;
    std::shared_ptr<ResourcePools> pools_;
    LuaVm vm_;
    Transactions tx_;
    int resources_table_ = LUA_NOREF;  // ctx.resources
    // Reference mode: the current record's key and its row as loaded (the snapshot
    // its changes are computed against).
    JsonRecord json_;  // the record run by run_json
    // write_json_record's buffers, kept between records: what became of each input
    // field, the changed ones' JSON, and the added fields' names and JSON.
    enum class FieldChange : char { kept, changed, removed };
    std::vector<FieldChange> field_change_;
    std::vector<std::string> field_text_;
    std::vector<std::pair<std::string_view, std::string>> added_;
    Value ref_key_;
    std::optional<Value> ref_row_;
    bool commit_conflict_ = false;  // the last run_once failed its version check
    bool ref_missing_ = false;      // the row was not found (an on_error route may still end well)
    ConvertRefs convert_;
    int step_ = LUA_NOREF, step_all_ = LUA_NOREF, begin_ = LUA_NOREF, get_ = LUA_NOREF, push_ = LUA_NOREF,
        pop_ = LUA_NOREF, restore_ = LUA_NOREF, clone_ = LUA_NOREF, free_ = LUA_NOREF, branch_out_ = LUA_NOREF,
        changes_ = LUA_NOREF, touch_ = LUA_NOREF, begin_json_ = LUA_NOREF, step_changes_ = LUA_NOREF,
        step_chain_ = LUA_NOREF, chain_ = LUA_NOREF;
    std::vector<int> state_index_;  // global state id -> index in its network
    std::unique_ptr<RunObserver> observer_;
    bool tracking_changes_ = false;  // the runtime records each step's changes
    bool has_direct_state_ = false;
    std::mt19937_64 rng_;  // retry jitter (seeded: reproducible)
    std::uint64_t ids_;    // run ids: splitmix64 state, randomly seeded (unique across processes)
    // The current run's id: drawn, and made text, only when something asks for it.
    RunId run_bits_;
    bool run_bits_drawn_ = false;
    std::string run_id_;
    bool run_id_made_ = false;
    std::unique_ptr<Branch> single_;  // a depth-first run's one branch, reused: its vectors keep their capacity
    std::vector<Branch> no_spawn_;    // what step() spawns in a depth-first run: nothing

    /// The current run's id, and as text (drawn and made on first use).
    const RunId& run_bits();
    const std::string& run_id();
    static int lua_run_id(lua_State* L);

    void resolve_functions(Diagnostics& diags);
    void define_plans();
    void push_fn_list(const std::vector<FnId>& ids, const char* field, const char* names_field);

    Status step(Run& run, Branch& b, std::vector<Branch>& spawned);
    Status take_arc(Run& run, Branch& b, const Arc& arc);
    void enter_chained(Run& run, Branch& b, int count);
    Status fail(Run& run, Branch& b, ErrorInfo error);
    Status finish(Run& run, Branch& b);
    Status record_failure(Run& run, Branch& b, ErrorInfo error);
    void observe_step_end(Run& run, const Branch& b, StepEnd end, const ErrorInfo* error);
    void observe_route(Run& run, Branch& b, int network, int state, StepVia via);
    void track_changes(bool on);
    bool count_transition(Run& run, Branch& b);
    ErrorInfo pcall_error(std::string state);

    Result run_once(Value input, DataMode mode, int attempt, const RunOptions& options, RunObserver* observer,
                    std::string* json_out = nullptr, bool lean = false);
    void write_json_record(int slot, std::string& out);
    static int lua_json_table(lua_State* L);
    static int lua_json_all(lua_State* L);
    std::optional<ErrorInfo> acquire_resources(const State& s, const std::string& where);
    SqliteConnection& hold(int id);
    void unbind(const std::vector<int>& released) noexcept;
    void finish_transaction(Result& result);
    /// The field order of a reference-mode record's output: the row's, else the input's.
    const Value& reference_order(const Value& input) const;
    void commit_reference(Result& result);
    void warn(const std::string& message);
    static int lua_load_row(lua_State* L);
    static int lua_commit_or_rollback(lua_State* L);

    int call_int(int ref, std::initializer_list<double> args);
    void call_void(int ref, std::initializer_list<double> args);
    Value read_slot(int slot, const Value& order);
    /// The slot's record whole, a lazy one filled first.
    Value read_whole(int slot, const Value& order);
    /// The record's final data: the input plus what the run changed, when the runtime
    /// tracked it, else everything read back from Lua.
    /// `input` is consumed when only changes are applied.
    Value read_record(int slot, Value& input);
};

}  // namespace statenet::detail
