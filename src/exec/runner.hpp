// Runner: one Lua VM loaded with one workflow, executing records one at a time.
#pragma once

#include "exec/services.hpp"
#include "lua/convert.hpp"
#include "lua/vm.hpp"
#include "model/model.hpp"
#include "resources/pool.hpp"

#include <statenet/result.hpp>
#include <statenet/workflow.hpp>

#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

namespace statenet::detail {

class Runner {
public:
    /// Loads the workflow's functions into a new VM; problems (unknown module or
    /// function, Lua syntax errors, failing factories) go to `diags`.
    Runner(std::shared_ptr<const Model> model, std::shared_ptr<EngineImpl> engine,
           std::shared_ptr<ResourcePools> pools, Diagnostics& diags);
    ~Runner();
    Runner(const Runner&) = delete;
    Runner& operator=(const Runner&) = delete;

    /// Runs one record. Record failures are in the result; throws only on engine bugs.
    Result run(Value input, const RunOptions& options);

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
    // Connections this record holds, by resource id (null when not held), and the
    // ids in the order they were acquired.
    std::vector<std::unique_ptr<SqliteConnection>> held_;
    std::vector<int> held_ids_;
    int resources_table_ = LUA_NOREF;  // ctx.resources
    ConvertRefs convert_;
    int step_ = LUA_NOREF, step_all_ = LUA_NOREF, begin_ = LUA_NOREF, get_ = LUA_NOREF,
        reset_ = LUA_NOREF, push_ = LUA_NOREF, pop_ = LUA_NOREF, restore_ = LUA_NOREF,
        clone_ = LUA_NOREF, free_ = LUA_NOREF, branch_out_ = LUA_NOREF, changes_ = LUA_NOREF;
    bool has_direct_state_ = false;
    std::mt19937_64 rng_;      // retry jitter (seeded: reproducible)
    std::mt19937_64 ids_;      // run ids (random: unique across processes)

    void resolve_functions(Diagnostics& diags);
    void define_plans();
    void push_fn_list(const std::vector<FnId>& ids, const char* field, const char* names_field);

    Status step(Run& run, Branch& b, std::vector<Branch>& spawned);
    Status take_arc(Run& run, Branch& b, const Arc& arc);
    Status fail(Run& run, Branch& b, ErrorInfo error);
    Status finish(Run& run, Branch& b);
    Status record_failure(Run& run, Branch& b, ErrorInfo error);
    bool count_transition(Run& run, Branch& b);
    ErrorInfo pcall_error(std::string state);

    std::optional<ErrorInfo> acquire_resources(const State& s, const std::string& where);
    std::optional<ErrorInfo> savepoints(const std::string& where);
    void end_savepoints(bool failed);
    std::optional<ErrorInfo> finish_resources(bool ok);
    void release_resources() noexcept;

    int call_int(int ref, std::initializer_list<double> args);
    void call_void(int ref, std::initializer_list<double> args);
    Value read_slot(int slot, const Value& order);
    /// The record's final data: the input plus what the run changed, when the runtime
    /// tracked it, else everything read back from Lua.
    /// `input` is consumed when only changes are applied.
    Value read_record(int slot, Value& input);
};

}  // namespace statenet::detail
