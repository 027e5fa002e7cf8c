// Program: one workflow version turned into Lua in one VM — the runtime set up, the
// workflow's functions resolved and every state's plan defined. Records (Runner) and
// machine instances (MachineVm) both run on a Program.
#pragma once

#include "exec/services.hpp"
#include "lua/convert.hpp"
#include "lua/vm.hpp"
#include "model/model.hpp"

#include <initializer_list>
#include <memory>
#include <string>

namespace statenet::detail {

/// The text of the value at `index`, or its type name when it is not a string.
std::string lua_text(lua_State* L, int index);

/// An arc condition's reason at `index`, as the runtime hands it over (a string: see
/// reason_text in runtime.lua; anything else is none).
/// Valid while the value stays on the stack.
std::string_view reason_at(lua_State* L, int index);

/// Registry references of the runtime's hot functions (statenet/runtime.lua).
struct RuntimeRefs {
    int step = LUA_NOREF, step_all = LUA_NOREF, step_chain = LUA_NOREF, chain = LUA_NOREF, begin = LUA_NOREF,
        begin_json = LUA_NOREF, get = LUA_NOREF, push = LUA_NOREF, pop = LUA_NOREF, restore = LUA_NOREF,
        clone = LUA_NOREF, free = LUA_NOREF, branch_out = LUA_NOREF, changes = LUA_NOREF, touch = LUA_NOREF,
        step_changes = LUA_NOREF;
};

/// What a Program runs: records never take event and timer arcs, so their plans leave
/// them out; machine plans carry them (statenet/machine.lua).
enum class ProgramFor { records, machines };

/// Not thread-safe: one thread uses a Program at a time.
class Program {
public:
    /// Opens the VM and loads the workflow into it; problems (unknown module or
    /// function, Lua syntax errors, failing factories) go to `diags`, and then no state
    /// plan is defined.
    Program(std::shared_ptr<const Model> model, const std::shared_ptr<EngineImpl>& engine, Diagnostics& diags,
            ProgramFor use);
    Program(const Program&) = delete;
    Program& operator=(const Program&) = delete;

    lua_State* state() const noexcept { return vm_.state(); }
    LuaVm& vm() noexcept { return vm_; }
    const ConvertRefs& convert() const noexcept { return convert_; }
    const RuntimeRefs& refs() const noexcept { return refs_; }
    const Model& model() const noexcept { return *model_; }
    const std::shared_ptr<const Model>& model_ptr() const noexcept { return model_; }

    /// Calls a runtime function with number arguments (throws std::logic_error when the
    /// runtime fails: an engine bug).
    int call_int(int ref, std::initializer_list<double> args);
    void call_void(int ref, std::initializer_list<double> args);
    /// The record in `slot` as it stands (a lazy root as far as it was filled); members
    /// of `order` keep their order.
    Value read_slot(int slot, const Value& order);
    /// The slot's record whole, a lazy one filled first.
    Value read_whole(int slot, const Value& order);

private:
    std::shared_ptr<const Model> model_;
    ProgramFor use_;
    LuaVm vm_;
    ConvertRefs convert_;
    RuntimeRefs refs_;

    void setup(const std::shared_ptr<EngineImpl>& engine);
    void resolve_functions(Diagnostics& diags);
    void define_plans();
    void push_fn(FnId id);
    void push_fn_list(const std::vector<FnId>& ids, const char* field, const char* names_field);
    static std::vector<FnId> joined(const std::vector<FnId>& first, const std::vector<FnId>& then);
    void push_state_plan(const Network& net, const State& s);
    void push_machine_arcs(const State& s);
    /// A machine push arc's plan (statenet/machine_stack.lua), on the Lua stack.
    void push_machine_push(const Arc& arc, int network);
    void push_strategies(const State& s);
    void push_parallel(const Parallel& p);
    void define_push_arcs(const State& s);
};

}  // namespace statenet::detail
