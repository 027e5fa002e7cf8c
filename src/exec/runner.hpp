// Runner: the executor — one Program (a Lua VM loaded with one workflow) running records one at a time.
#pragma once

#include "exec/json_output.hpp"
#include "exec/parking.hpp"
#include "exec/program.hpp"
#include "exec/reference.hpp"
#include "exec/resource_binder.hpp"
#include "exec/run_id.hpp"
#include "exec/run_observer.hpp"
#include "exec/services.hpp"
#include "exec/shared_strategies.hpp"
#include "exec/transactions.hpp"
#include "model/model.hpp"
#include "resources/meter.hpp"
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

class RunnerPool;

class Runner {
public:
    /// Loads the workflow into a Program of its own (a new VM); problems (unknown module
    /// or function, Lua syntax errors, failing factories) go to `diags`.
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
    /// Where records that reach a `wait` state park (set when the model has one).
    void set_park_store(std::shared_ptr<ParkStore> store);

    /// Goes on with a parked record (wait.cpp): `data` is its stored record, `signal`
    /// the payload (ctx.signal) the waiting state's arcs are chosen with, or nullopt
    /// when its deadline passed (the state fails with SignalTimeout: its retry and
    /// on_error apply). The run keeps the record's run id, path and transitions.
    Result resume(const ParkedRecord& parked, Value data, const std::optional<Value>& signal,
                  const RunOptions& options = {});

    /// Runs one record given as JSON text; its data goes to `out` as one line of compact
    /// JSON (when it succeeds and is emitted), with the fields no function changed copied
    /// from the input. Result::data stays null. Throws JsonError for malformed text.
    /// `lean`: the caller reads only ok, emit and error, so Result::path and
    /// Result::run_id stay empty (an observer gets the id's bits; Lua's ctx.run_id is
    /// made when a function first reads it).
    /// `observer` (when given) replaces the runner's own for this record.
    /// `data`: JsonData::always writes the record's data to `out` whatever became of it
    /// (failed, excluded, parked), as Result::data would hold it after run().
    Result run_json(std::string_view text, std::string& out, const RunOptions& options, bool lean = false,
                    RunObserver* observer = nullptr, JsonData data = JsonData::emitted);

    /// The next runs are part of another run (a map's items, a parallel state's branches):
    /// they take its id, and stop at their next step once `*cancelled` is true. Null
    /// pointers end that.
    void join_run(const RunId* id, const bool* cancelled) noexcept {
        joined_run_ = id;
        cancelled_ = cancelled;
    }

    /// The breakers, bulkheads, cache and counters of the states' recovery strategies,
    /// shared by the version's runners (set when some state declares one).
    void set_strategies(std::shared_ptr<SharedStrategies> strategies);

    /// The pool this runner belongs to: map states lease their items' runners from it.
    void set_siblings(std::weak_ptr<RunnerPool> pool) { siblings_ = std::move(pool); }

    /// Commits an open batch transaction. Returns an error message when that fails.
    std::optional<std::string> flush();

    const Model& model() const noexcept { return *model_; }

private:
    struct Frame;
    struct Branch;
    struct Run;
    struct Outcome;
    struct ResumePoint;
    enum class Status { running, finished, failed, parked };

    std::shared_ptr<const Model> model_;
    std::shared_ptr<EngineImpl> engine_;
    std::shared_ptr<ResourcePools> pools_;
    Program program_;
    ResourceBinder binder_;  // outlives tx_, which holds its files roots
    Transactions tx_;
    JsonOutput json_;                  // the record run by run_json
    ReferenceRecord reference_;        // reference mode's key, row and commit
    int resources_table_ = LUA_NOREF;  // ctx.resources
    RecordMeter meter_;                // the record's resource calls and tokens
    std::vector<int> state_index_;     // global state id -> index in its network
    std::unique_ptr<RunObserver> observer_;
    std::weak_ptr<RunnerPool> siblings_;
    const RunId* joined_run_ = nullptr;  // see join_run
    const bool* cancelled_ = nullptr;
    std::shared_ptr<ParkStore> park_store_;
    std::shared_ptr<SharedStrategies> strategies_;
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
    // The run and branch of the observed step_chain call in progress (chained_step).
    Run* chained_run_ = nullptr;
    Branch* chained_branch_ = nullptr;

    /// The current run's id, and as text (drawn and made on first use).
    const RunId& run_bits();
    const std::string& run_id();
    static int lua_run_id(lua_State* L);
    void install_context();

    // A record's run (runner.cpp): begin -> drive -> collect.
    Result run_once(Value input, DataMode mode, int attempt, const RunOptions& options, RunObserver* observer,
                    std::string* json_out = nullptr, bool lean = false, const ResumePoint* from = nullptr,
                    JsonData json_data = JsonData::emitted);
    Run new_run(DataMode mode, int attempt, RunObserver* observer, bool lean, std::string* json_out);
    std::optional<ErrorInfo> begin(Run& run, const Value& input, int& first_slot);
    void drive(Run& run, int first_slot, Outcome& outcome);
    /// `[branches]`: joins a breadth-first record's branches (branch_join.cpp).
    void join_branches(Run& run, Outcome& outcome, const Value& input);
    void collect(Run& run, const Outcome& outcome, Value& input, Result& result, Value& history_output);
    Result reject(Run& run, Value& input, ErrorInfo error);
    std::vector<std::string> path_of(const Run& run, const Branch& b) const;
    /// The record's final data: the input plus what the run changed, when the runtime
    /// tracked it, else everything read back from Lua. `input` is consumed when only
    /// changes are applied.
    Value read_record(int slot, Value& input);
    void finish_transaction(Result& result);

    // Waiting for a signal (wait.cpp): parking a record and taking it up again.
    Status park(Run& run, Branch& b, const State& s);
    Status resume_step(Run& run, Branch& b);
    void start_resumed(Run& run, Branch& b, int first_slot);
    void collect_parked(Run& run, const Branch& b, Value& input, Result& result);
    void store_parked(Run& run, Result& result);
    // One branch's steps (steps.cpp): states, arcs, pushes, retries and on_error.
    Status step(Run& run, Branch& b, std::vector<Branch>& spawned);
    int push_step_args(const Run& run, const Branch& b, bool chained);
    Status spawn_branches(Run& run, Branch& b, const State& s, std::vector<Branch>& spawned);
    Status take_arc(Run& run, Branch& b, const Arc& arc, std::string_view reason = {});
    // Parallel states (parallel.cpp).
    struct Joined {
        std::vector<int> index, slot;  // finished branches: 1-based numbers, their slots
        std::optional<ErrorInfo> failure;
        std::string failed_network;
    };
    Status run_parallel(Run& run, Branch& b, const State& s);
    Status run_parallel_in_flight(Run& run, Branch& b, const State& s, const std::shared_ptr<RunnerPool>& pool);
    Status settle_join(Run& run, Branch& b, const State& s, Joined& joined);
    const std::string& qualified_name(const std::string& name) const;
    Status route_after_join(Run& run, Branch& b, const State& s);
    // Map states (map_state.cpp).
    Status run_map(Run& run, Branch& b, const State& s);
    std::optional<ErrorInfo> put_field(int slot, const std::vector<std::string>& path, const Value& value);
    void enter_chained(Run& run, Branch& b, int count);
    int chained_count();
    // The runtime's step hook (runtime.lua's set_step_hook): step_chain, observed, took
    // an arc into state `to` (global id) of chained_branch_.
    static void chained_step(void* self, int to, const char* reason, std::size_t length) noexcept;
    void install_step_hook();
    Status fail(Run& run, Branch& b, ErrorInfo error);
    Status finish(Run& run, Branch& b);
    Status record_failure(Run& run, Branch& b, ErrorInfo error);
    bool count_transition(Run& run, Branch& b);
    ErrorInfo pcall_error(std::string state);
    void observe_step_start(Run& run, Branch& b, const State& s, int attempt);
    void observe_step_end(Run& run, const Branch& b, StepEnd end, const ErrorInfo* error);
    void observe_route(Run& run, Branch& b, int network, int state, StepVia via, std::string_view reason = {});
    void track_changes(bool on);

    // Recovery strategies (strategies.cpp).
    std::optional<ErrorInfo> admit(const State& s);
    void strategy_outcome(const State& s, const ErrorInfo* error);
    void compensate(Branch& b, const ErrorInfo& error);
    static int lua_cache_get(lua_State* L);
    static int lua_cache_put(lua_State* L);

    // Resources and transactions (resources.cpp).
    std::optional<ErrorInfo> acquire_resources(const State& s, const std::string& where);
    void warn(const std::string& message);
    static int lua_commit_or_rollback(lua_State* L);
};

/// A runner's runs joined to another run (Runner::join_run) for as long as this lives.
class JoinedRun {
public:
    JoinedRun(Runner& runner, const RunId* id, const bool* cancelled) noexcept : runner_(runner) {
        runner.join_run(id, cancelled);
    }
    ~JoinedRun() { runner_.join_run(nullptr, nullptr); }
    JoinedRun(const JoinedRun&) = delete;
    JoinedRun& operator=(const JoinedRun&) = delete;

private:
    Runner& runner_;
};

}  // namespace statenet::detail
