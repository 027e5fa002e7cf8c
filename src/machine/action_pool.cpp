// ActionPool: worker threads, each loading the workflow into a Lua VM of its own, that
// call an action's function as run(args, ctx) and report how it ended.
#include "machine/action_pool.hpp"

#include "api/workflow_impl.hpp"
#include "exec/program.hpp"
#include "lua/limits.hpp"
#include "machine/machine_vm.hpp"
#include "resources/pool.hpp"

#include <fmt/format.h>

#include <memory>

namespace statenet::detail {

namespace {

// What ctx.emit, ctx.send and ctx.start_action do inside an action: an action reports
// through its result, which the instance receives as an event.
int lua_not_in_action(lua_State* L) {
    return luaL_error(L, "ctx.%s works in a machine's transitions, not in an action (return a result instead)",
                      lua_tostring(L, lua_upvalueindex(1)));
}

/// A worker's VM: the workflow's functions resolved, its network resources (http, llm)
/// bound into ctx.resources. Not thread-safe: one worker owns it.
class ActionVm {
public:
    explicit ActionVm(const Workflow& workflow) : workflow_(workflow), pools_(workflow.impl().current()->pools) {
        Diagnostics diags;
        program_ =
            std::make_unique<Program>(workflow.impl().model(), workflow.impl().engine, diags, ProgramFor::machines);
        if (!diags.empty()) throw LoadError(std::move(diags.list));
        lua_State* L = program_->state();
        StackGuard guard(L);
        program_->vm().push_runtime("ctx");
        lua_getfield(L, -1, "resources");
        pools_->network().bind(L, -1, program_->convert());
        lua_pop(L, 1);
        for (const char* name : {"emit", "send", "start_action"}) {
            lua_pushstring(L, name);
            lua_pushcclosure(L, lua_not_in_action, 1);
            lua_setfield(L, -2, name);
        }
    }

    ActionOutcome run(const ActionJob& job) {
        ActionOutcome out;
        const Model& model = program_->model();
        const MachineAction* action = nullptr;
        for (const MachineAction& a : model.actions)
            if (a.name == job.name) action = &a;
        const std::string where = "action " + job.name;
        if (!action) {
            out.error = {"UnknownAction", fmt::format("the workflow declares no action '{}' (any more)", job.name),
                         where};
            return out;
        }
        lua_State* L = program_->state();
        StackGuard guard(L);
        program_->vm().push_runtime("ctx");
        lua_pushlstring(L, job.instance.data(), job.instance.size());
        lua_setfield(L, -2, "run_id");
        lua_pushlstring(L, job.name.data(), job.name.size());
        lua_setfield(L, -2, "action");
        lua_getfield(L, LUA_REGISTRYINDEX, "statenet.functions");
        lua_rawgeti(L, -1, action->run + 1);
        push_value(L, Value::from_json(job.args_json), program_->convert());
        program_->vm().push_runtime("user_ctx");
        CallLimit limit(program_->vm().limits(), L, action->timeout_ms, action->timeout_ms);
        if (lua_pcall(L, 2, 1, 0) != 0) {
            out.error = pop_error(L, where);
            return out;
        }
        out.ok = true;
        out.result = read_value(L, -1, program_->convert(), nullptr);
        return out;
    }

private:
    Workflow workflow_;
    std::shared_ptr<ResourcePools> pools_;  // the network clients outlive the VM
    std::unique_ptr<Program> program_;
};

}  // namespace

ActionPool::ActionPool(const Workflow& workflow, std::size_t workers, ActionFinished finished)
    : finished_(std::move(finished)), workflow_(workflow) {
    for (std::size_t i = 0; i < workers; ++i) threads_.emplace_back([this] { work(); });
}

ActionPool::~ActionPool() {
    {
        std::lock_guard lock(mutex_);
        stop_ = true;
    }
    ready_.notify_all();
    for (auto& t : threads_) t.join();
}

void ActionPool::use(const Workflow& workflow) {
    std::lock_guard lock(mutex_);
    workflow_ = workflow;
    ++generation_;
}

void ActionPool::submit(std::vector<ActionJob> jobs) {
    std::size_t queued = 0;
    {
        std::lock_guard lock(mutex_);
        for (auto& job : jobs) {
            if (!here_.insert(job.seq).second) continue;
            queue_.push_back(std::move(job));
            ++queued;
        }
    }
    // One worker per job: waking them all (notify_all) has every idle worker race for
    // the lock only for all but one to sleep again, on cores the caller needs too.
    if (queued >= threads_.size()) ready_.notify_all();
    else
        for (std::size_t i = 0; i < queued; ++i) ready_.notify_one();
}

bool ActionPool::has(std::int64_t seq) {
    std::lock_guard lock(mutex_);
    return here_.contains(seq);
}

void ActionPool::work() {
    std::unique_ptr<ActionVm> vm;
    std::string unloadable;  // why the VM could not be built
    std::uint64_t loaded = 0;
    std::unique_lock lock(mutex_);
    while (true) {
        // The VM is (re)built before waiting, so an action never waits for a load.
        if (loaded != generation_ || (!vm && unloadable.empty())) {
            Workflow workflow = workflow_;
            loaded = generation_;
            lock.unlock();
            try {
                vm = std::make_unique<ActionVm>(workflow);
                unloadable.clear();
            } catch (const std::exception& e) {
                vm.reset();
                unloadable = e.what();
            }
            lock.lock();
            continue;
        }
        ready_.wait(lock, [&] { return stop_ || !queue_.empty() || loaded != generation_; });
        if (stop_) return;
        if (queue_.empty() || loaded != generation_) continue;
        ActionJob job = std::move(queue_.front());
        queue_.pop_front();
        lock.unlock();
        ActionOutcome outcome;
        outcome.error = {"ActionError", "", "action " + job.name};
        try {
            if (vm) outcome = vm->run(job);
            else outcome.error.message = "cannot load the workflow for actions: " + unloadable;
        } catch (const std::exception& e) {
            outcome.ok = false;
            outcome.error.message = e.what();
        }
        try {
            finished_(job, std::move(outcome));
        } catch (...) {
            // The action stays open in the store: recovery or its timeout ends it.
        }
        lock.lock();
        here_.erase(job.seq);
    }
}

}  // namespace statenet::detail
