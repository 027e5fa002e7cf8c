// MachineVm: one workflow's Lua VM driving machine instances (event, timer and start steps).
#pragma once

#include "exec/program.hpp"
#include "exec/resource_binder.hpp"
#include "exec/transactions.hpp"
#include "lua/protocol.hpp"
#include "model/model.hpp"

#include <statenet/result.hpp>
#include <statenet/value.hpp>
#include <statenet/workflow.hpp>

#include <memory>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

namespace statenet::detail {

/// What one start, event or timer did to an instance.
struct MachineStep {
    using Code = MachineOutcome;
    Code code = Code::rejected;
    int state = -1;          ///< applied: the global id of the state the instance now waits in
    bool completed = false;  ///< applied: that state is an end state
    std::string reason;      ///< applied: the condition's reason; rejected: why
    std::string label;       ///< applied: the event name or "after_ms=N" of the arc that fired
    int previous = -1;       ///< applied: the state before `state` (where "@previous" leads), -1 = none
    int messages = 0;  ///< applied: how many ctx.emit / ctx.send / ctx.start_action messages it wrote (take_messages)
    std::optional<ErrorInfo> error;  ///< failed: what failed (the instance is unchanged)
};

/// What an applied step's functions wrote with ctx.emit (topic), ctx.send (instance,
/// event) or ctx.start_action (action, its args in payload), in order.
struct MachineMessage {
    std::string topic;
    std::string instance, event;
    std::string action;
    Value payload;
};

/// The error a failed pcall left on the stack (a string or { name, message }), in
/// `state`; pops it.
ErrorInfo pop_error(lua_State* L, std::string_view state);

/// Checks that a model can drive machines; problems go to `diags` with their location.
void check_machine_model(const Model& model, Diagnostics& diags);

/// The Lua side of a set of instances. Each instance's data stays resident in the VM
/// under an integer handle chosen by the caller. Not thread-safe: one caller at a time.
class MachineVm {
public:
    /// Loads `workflow` into a Program of its own (functions resolved, state plans
    /// with their event and timer arcs defined). Throws LoadError when it cannot.
    explicit MachineVm(const Workflow& workflow);
    ~MachineVm();
    MachineVm(const MachineVm&) = delete;
    MachineVm& operator=(const MachineVm&) = delete;

    const Model& model() const noexcept { return *model_; }
    const Workflow& workflow() const noexcept { return workflow_; }
    /// The `[actions]` entry named `name`, or null.
    const MachineAction* action(std::string_view name) const;
    const std::shared_ptr<const Model>& model_ptr() const noexcept { return model_; }
    /// The state with global id `sid`.
    const State& state(int sid) const { return *states_[static_cast<std::size_t>(sid)]; }
    /// Some state works in direct mode: a failing step may leave changes in the data.
    bool direct() const noexcept { return direct_; }
    /// Some arc is a push arc: instances may be inside sub-networks, with a push stack.
    bool pushes() const noexcept { return pushes_; }
    /// Global state id of `network/state`, or -1.
    int find_state(std::string_view qualified) const;

    /// A new instance: stores `data` under `handle` and enters the main network's start
    /// state. On failure nothing stays under `handle`.
    MachineStep start(int handle, const Value& data, std::string_view id);
    /// Fires `event` from state `sid` (the instance waits there, having come from
    /// `previous`, -1 = none).
    MachineStep fire(int handle, int sid, int previous, std::string_view event, const Value& payload,
                     std::string_view id);
    /// Fires the first due timer arc of state `sid`, `elapsed_ms` after entering it.
    MachineStep fire_timer(int handle, int sid, int previous, double elapsed_ms, std::string_view id);

    /// When a state's next timer arc falls due, `elapsed_ms` after entering it having
    /// checked up to `checked_ms` (-1 for none yet); < 0 when there is none.
    double next_timer_ms(int sid, double checked_ms) const;

    /// The messages of the step that just applied (then forgotten).
    std::vector<MachineMessage> take_messages();

    /// Puts `data` under `handle`, in the main network (no push frames).
    void put(int handle, const Value& data);
    /// The push frames under `handle` as the stores keep them (JSON text, "" when the
    /// instance is in the main network), and back (machine_stack.cpp). put_stack returns
    /// why stored frames do not fit the loaded workflow ("" when they fit and were put).
    std::string stack_json(int handle);
    std::string put_stack(int handle, std::string_view json);
    /// The instance's data; members of `order` keep their order.
    Value get(int handle, const Value* order = nullptr);
    void drop(int handle);

private:
    Workflow workflow_;
    std::shared_ptr<const Model> model_;
    std::unique_ptr<Program> program_;
    std::vector<const State*> states_;
    bool direct_ = false;
    bool pushes_ = false;
    int start_ = LUA_NOREF, fire_ = LUA_NOREF, fire_timer_ = LUA_NOREF, put_ = LUA_NOREF, get_ = LUA_NOREF,
        drop_ = LUA_NOREF, abort_ = LUA_NOREF, messages_ = LUA_NOREF;

    std::mt19937_64 rng_;  // retry jitter

    // Resources: an event's connections are held in tx_ from a function's first use of
    // ctx.resources.NAME (any resource a state lists) and committed with the event.
    std::shared_ptr<ResourcePools> pools_;
    std::unique_ptr<ResourceBinder> binder_;  // destroyed after tx_
    std::unique_ptr<Transactions> tx_;
    std::vector<bool> listed_;  // by resource id: some state lists it
    bool transactional_ = false;
    bool step_open_ = false;  // a recovering state's attempt runs inside a savepoint
    std::string where_;       // the state an event started in, for a resource error

    /// Calls the pushed machine function; then commits the event's resource work when it
    /// applied, else rolls it back. A failed commit fails the step and, for `handle`
    /// (>= 0), puts the instance's data back as it was.
    MachineStep call(int nargs, std::string_view state_name, int handle = -1);
    /// Pops the seven results of a machine function into `step`.
    static void read_step(lua_State* L, MachineStep& step);
    /// Ends the event's transaction: commit when applied, else roll back.
    void settle(MachineStep& step, int handle, int before, int frames);
    void install_resources();
    /// machine.lua's `recover(sid, error_name, counts)`: what a failing state does next.
    static int lua_recover(lua_State* L);
    /// __index on ctx.resources: acquires a listed resource for the running event.
    static int lua_acquire(lua_State* L);
    /// machine.lua's `step(0 | 1 | 2)` around a recovering state's attempt: savepoint,
    /// release it, roll back to it (so a retried or rerouted attempt's writes go).
    static int lua_step(lua_State* L);
};

}  // namespace statenet::detail
