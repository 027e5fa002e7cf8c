// MachinesImpl's actions: ctx.start_action records an action with the transition that
// starts it; after the commit a worker of the ActionPool runs it, and its outcome comes
// back to the instance as an event (action_done, action_failed, action_timeout), keyed
// by the action so it is applied once whatever races or restarts happen.
#include "machine/machines_impl.hpp"

#include <fmt/format.h>

#include <stdexcept>

namespace statenet::detail {

namespace {

Value error_value(std::string_view name, std::string_view message) {
    return Value::object({{"name", Value(std::string(name))}, {"message", Value(std::string(message))}});
}

}  // namespace

// A pool, once started, stays: a reload runs under the machine lock, which a worker
// delivering an outcome may be waiting for, so stopping the workers there could
// deadlock. A reload that drops every action leaves the workers idle.
void MachinesImpl::use_actions() {
    if (pool_) {
        pool_->use(vm_->workflow());
        return;
    }
    if (vm_->model().actions.empty() || options_.action_workers == 0) return;
    pool_ = std::make_unique<ActionPool>(
        vm_->workflow(), options_.action_workers,
        [this](const ActionJob& job, ActionOutcome outcome) { action_finished(job, std::move(outcome)); });
}

void MachinesImpl::start_action(const std::string& instance, MachineMessage& m, double now) {
    const MachineAction* declared = vm_->action(m.action);
    if (!declared) return;  // machine.lua lets only declared names through
    OpenAction a{0, instance, m.action, m.payload.to_json(), now + declared->timeout_ms};
    if (auto seq = store_->start_action(a, now)) {
        a.seq = *seq;
        started_.push_back(std::move(a));
    }
}

void MachinesImpl::action_finished(const ActionJob& job, ActionOutcome outcome) {
    locked([&] {
        if (!vm_) return;
        Value payload = Value::object({{"name", Value(job.name)}});
        std::string how = "done";
        if (outcome.ok) {
            payload.set("result", std::move(outcome.result));
        } else {
            payload.set("error", error_value(outcome.error.name, outcome.error.message));
            how = fmt::format("failed: {}: {}", outcome.error.name, outcome.error.message);
        }
        const OpenAction a{job.seq, job.instance, job.name, {}, 0};
        end_action(a, outcome.ok ? "action_done" : "action_failed", payload, how, clock_->now_ms());
    });
}

void MachinesImpl::end_action(const OpenAction& a, std::string_view event, const Value& payload,
                              std::string_view outcome, double now) {
    const std::string key = fmt::format("action:{}", a.seq);
    try {
        guarded(a.instance, [&] {
            if (!store_->close_action(a.seq, outcome)) return;  // its timeout or result came first
            deliver(a.instance, event, payload, key, now);
        });
    } catch (const std::invalid_argument&) {  // the instance is gone (pruned)
        store_->atomically([&] { store_->close_action(a.seq, "its instance no longer exists"); });
    }
}

void MachinesImpl::expire_actions(double now) {
    for (const OpenAction& a : store_->open_actions(now)) {
        const MachineAction* declared = vm_->action(a.name);
        Value payload = Value::object({{"name", Value(a.name)}});
        if (declared) payload.set("timeout_ms", Value(declared->timeout_ms));
        end_action(a, "action_timeout", payload, "timeout", now);
    }
}

void MachinesImpl::resume_actions(double now) {
    std::vector<ActionJob> rerun;
    for (OpenAction& a : store_->open_actions(-1)) {
        if (pool_->has(a.seq)) continue;
        const MachineAction* declared = vm_->action(a.name);
        if (!declared || !declared->rerun) {
            Value payload = Value::object({{"name", Value(a.name)}});
            payload.set(
                "error",
                declared ? error_value("ActionInterrupted", "the process running the action ended before it finished")
                         : error_value("UnknownAction", fmt::format("the workflow declares no action '{}'", a.name)));
            end_action(a, "action_failed", payload, "interrupted", now);
            continue;
        }
        store_->atomically([&] { store_->renew_action(a.seq, now + declared->timeout_ms); });
        rerun.push_back({a.seq, std::move(a.instance), std::move(a.name), std::move(a.args_json)});
    }
    pool_->submit(std::move(rerun));
}

}  // namespace statenet::detail
