// MachinesImpl's clock-driven side: tick, game frames (post/step), recovery and the
// timer loop (next_due, run_timers).
#include "machine/machines_impl.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <stdexcept>

namespace statenet::detail {

std::vector<SendResult> MachinesImpl::tick(double now) {
    writable("tick");
    return fire_timers(now);
}

std::vector<SendResult> MachinesImpl::tick(double now, const std::function<bool(std::string_view)>& held) {
    writable("tick");
    return fire_timers(now, held);
}

void MachinesImpl::post(std::string_view id, std::string_view event, const Value& payload) {
    writable("post");
    // Checked now, since step() cannot report it to the caller that queued it.
    InstanceRow row;
    if (!store_->find(id, row, nullptr)) throw std::invalid_argument(fmt::format("no machine instance '{}'", id));
    queue_.push_back({std::string(id), std::string(event), payload, {}});
}

std::size_t MachinesImpl::step(double dt_ms) {
    writable("step");
    auto* manual = dynamic_cast<ManualClock*>(clock_.get());
    if (!manual) throw std::logic_error("Machines::step(dt) drives a ManualClock; these machines use another clock");
    std::size_t applied = 0;
    std::deque<MachineEvent> queued;
    queued.swap(queue_);
    const double now = manual->now_ms();
    for (const auto& e : queued) {
        SendResult r;
        guarded(e.instance, [&] { r = deliver(e.instance, e.event, e.payload, {}, now); });
        if (r.status == SendStatus::applied) ++applied;
    }
    manual->advance(dt_ms);
    for (const auto& r : fire_timers(manual->now_ms()))
        if (r.status == SendStatus::applied) ++applied;
    return applied;
}

std::vector<SendResult> MachinesImpl::recover(double now) {
    writable("recover");
    if (pool_) resume_actions(now);
    const Recovery& recovery = vm_->model().recovery;
    std::vector<SendResult> results;
    if (recovery.event.empty()) return results;
    for (const auto& id : store_->idle(now - recovery.idle_ms)) {
        SendResult r;
        guarded(id, [&] { r = deliver(id, recovery.event, Value(), {}, now); });
        results.push_back(std::move(r));
    }
    return results;
}

std::vector<SendResult> MachinesImpl::fire_timers(double now, const std::function<bool(std::string_view)>& held) {
    if (!vm_->model().actions.empty()) expire_actions(now);
    std::vector<SendResult> results;
    for (const auto& id : store_->due(now)) {
        if (held && held(id)) continue;
        SendResult r;
        bool fired = false;
        guarded(id, [&] { fired = fire_timer(id, now, r); });
        if (fired) results.push_back(std::move(r));
    }
    return results;
}

bool MachinesImpl::fire_timer(const std::string& id, double now, SendResult& r) {
    InstanceRow row;
    if (!store_->find(id, row, nullptr)) return false;
    if (row.completed || row.state < 0 || row.due_ms < 0 || row.due_ms > now) return false;
    r.instance = id;
    r.from = r.to = state_name(row);
    const double elapsed = now - row.since_ms;
    const int handle = resident(id, row);
    MachineStep step = vm_->fire_timer(handle, row.state, row.previous, elapsed, id);
    if (step.code == MachineStep::Code::applied) {
        apply(r, row, step, now, handle, false);
        audit(r, now);
        return true;
    }
    const double next = vm_->next_timer_ms(row.state, elapsed);
    row.due_ms = next < 0 ? -1 : row.since_ms + next;
    store_->save(id, row, nullptr, false);
    if (step.code == MachineStep::Code::rejected) return false;
    // A failing timer arc is a rejected transition: audited.
    r.event = "timer";
    reject(r, step);
    audit(r, now);
    return true;
}

// An open action's deadline is a timer too: its action_timeout fires with the others.
std::optional<double> MachinesImpl::next_due() {
    std::optional<double> due = store_->next_due();
    if (vm_ && !vm_->model().actions.empty())
        if (auto deadline = store_->next_action_deadline(); deadline && (!due || *deadline < *due)) due = deadline;
    return due;
}

void MachinesImpl::wake() {
    std::lock_guard lock(mutex_);
    woken_ = true;
    timers_changed_.notify_all();
}

void MachinesImpl::run_timers(const std::function<bool()>& stop) {
    writable("run_timers");
    // Sleeps on the machine lock's condition: a commit that may have set an earlier
    // timer (committed()) or wake() ends the sleep early.
    while (!stop()) {
        std::vector<Notice> told;
        {
            std::unique_lock lock(mutex_);
            const double now = clock_->now_ms();
            const std::optional<double> due = next_due();
            if (due && *due <= now) {
                fire_timers(now);
                told.swap(notices_);
            } else {
                woken_ = false;
                // At most a second at a time: a clock moved by hand, or a store another
                // process wrote, is seen again soon.
                const double wait_ms = due ? std::min(*due - now, 1000.0) : 1000.0;
                timers_changed_.wait_for(lock, std::chrono::duration<double, std::milli>(wait_ms),
                                         [&] { return woken_; });
            }
        }
        notify(told);
    }
}

}  // namespace statenet::detail
