// Reconcile: a supervising instance's child-spec changes applied to its children and
// the tree — start, spec_changed without a restart, two-phase removal (stop, then
// delete at an end state or after removal_timeout_ms), restarts and child_failed.
// Every step is written to the tree before it acts, so a process that dies in the
// middle resumes it on its next tick (starts and keyed sends are idempotent).
#include "supervise/supervisor_impl.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace statenet::detail {

namespace {

std::string spec_key(const ChildRow& row) { return fmt::format("spec:{}", row.spec_version); }

}  // namespace

void SupervisorImpl::seed(const Visit& v) {
    const Kind& kind = kinds_[static_cast<std::size_t>(v.kind)];
    // (An instance derived from is seeded: forget_derived drops both.)
    if (!kind.vm || kind.derived.contains(v.info.id) || kind.vm->seeded(v.info.id)) return;
    // First visit since the process started: the diff starts from what the tree holds,
    // and children that completed meanwhile are noted for a restart.
    Value entries = Value::object();
    for (ChildRow* row : tree_->children(v.info.id)) {
        if (row->status == "stopping") continue;
        entries[row->name] = row->entry;
        if (row->status != "running") continue;
        auto info = kinds_[static_cast<std::size_t>(kind_index(row->kind))].machines->get(row->id);
        if (info && info->completed) {
            std::lock_guard lock(completed_mutex_);
            completed_.insert({kind_index(row->kind), row->id});
        }
    }
    kind.vm->seed(v.info.id, entries);
}

void SupervisorImpl::apply(const Visit& v, ChildOp& op, double now, SuperviseReport& report) {
    ChildRow* existing = tree_->find(v.info.id, op.name);
    if (op.kind == ChildOp::Kind::remove) {
        if (existing && existing->status != "stopping") begin_stop(*existing, now, report);
        return;
    }
    const int k = resolve(v.kind, op.entry["workflow"].as_string());
    const std::string& path = kinds_[static_cast<std::size_t>(k)].path;
    if (existing && (existing->status == "stopping" || existing->kind != path)) {
        // Wanted again while being removed, or moved to another workflow: a new child.
        drop_child(*existing);
        existing = nullptr;
    }
    if (!existing) {
        ChildRow row;
        row.parent = v.info.id;
        row.name = op.name;
        row.kind = path;
        row.id = v.info.id + "/" + op.name;
        row.entry = std::move(op.entry);
        tree_->save(row);  // "starting": a crash before the start is resumed
        start_child(*tree_->find(row.parent, row.name), report);
        return;
    }
    const Value* old_map = existing->entry.find("state_map");
    const Value* new_map = op.entry.find("state_map");
    if (!old_map || !new_map || old_map->to_json() != new_map->to_json()) existing->mapped.clear();
    existing->entry = std::move(op.entry);
    ++existing->spec_version;
    existing->restarts.clear();
    if (existing->status == "failed") {
        // It completed and was given up on: the new spec starts it afresh.
        kinds_[static_cast<std::size_t>(k)].machines->remove(existing->id);
        forget_derived(k, existing->id);
        existing->mapped.clear();
        existing->status = "starting";
        tree_->save(*existing);
        start_child(*existing, report);
        return;
    }
    existing->status = "updating";  // spec_changed not yet delivered
    tree_->save(*existing);
    progress(v, *existing, now, report);
}

void SupervisorImpl::start_child(ChildRow& row, SuperviseReport& report) {
    Machines& machines = *kinds_[static_cast<std::size_t>(kind_index(row.kind))].machines;
    SendResult r = machines.start(row.id, start_data(row.entry));
    if (r.status == SendStatus::rejected) {
        row.status = "failed";
        row.note = "start rejected: " + r.reason;
    } else {
        row.status = "running";
        row.note.clear();
        if (r.status == SendStatus::applied) ++report.started;
    }
    tree_->save(row);
}

void SupervisorImpl::begin_stop(ChildRow& row, double now, SuperviseReport& report) {
    row.status = "stopping";  // `stop` is sent by progress(), which resumes it after a crash
    row.since_ms = now;
    tree_->save(row);
    ++report.stopping;
}

void SupervisorImpl::drop_child(ChildRow& row) {
    kinds_[static_cast<std::size_t>(kind_index(row.kind))].machines->remove(row.id);
    {
        std::lock_guard lock(completed_mutex_);
        completed_.erase({kind_index(row.kind), row.id});
    }
    forget_derived(kind_index(row.kind), row.id);
    tree_->erase_breaker(row.id);
    held_.erase(row.id);
    tree_->erase(row.parent, row.name);
}

bool SupervisorImpl::progress(const Visit& v, ChildRow& row, double now, SuperviseReport& report) {
    const int k = kind_index(row.kind);
    Machines& machines = *kinds_[static_cast<std::size_t>(k)].machines;
    if (row.status == "starting") {
        start_child(row, report);
    } else if (row.status == "updating") {
        // Keyed by the spec's version: delivered once, however often a crash repeats it.
        SendResult r = machines.send(row.id, "spec_changed", start_data(row.entry), spec_key(row));
        if (r.status == SendStatus::applied) ++report.updated;
        row.status = "running";
        row.note = r.status == SendStatus::rejected ? "spec_changed rejected: " + r.reason : std::string();
        tree_->save(row);
    } else if (row.status == "stopping") {
        const SupervisionConfig& config = kinds_[static_cast<std::size_t>(v.kind)].model().supervision;
        auto info = machines.get(row.id);
        if (info && !info->completed) {
            // Keyed: sent once, however many ticks (or restarts) wait for the end state.
            SendResult r = machines.send(row.id, "stop", Value::object({{"parent", row.parent}}), "stop");
            const bool refused = r.status == SendStatus::rejected ||
                                 (r.status == SendStatus::duplicate && r.first == SendStatus::rejected);
            if (refused && row.note.empty()) {
                row.note = "stop rejected: " + r.reason;
                tree_->save(row);
            }
            info = machines.get(row.id);
        }
        if (!info || info->completed) {
            // Its grandchildren go with it (forcibly: their parent is gone).
            for (ChildRow* grandchild : tree_->children(row.id)) drop_child(*grandchild);
            drop_child(row);
            ++report.removed;
            return false;
        }
        if (now - row.since_ms >= config.removal_timeout_ms) {
            for (ChildRow* grandchild : tree_->children(row.id)) drop_child(*grandchild);
            drop_child(row);
            ++report.forced;
            return false;
        }
    } else if (row.status == "running" && took_completed(k, row.id)) {
        restart(v, row, now, report);
    }
    return true;
}

void SupervisorImpl::restart(const Visit& v, ChildRow& row, double now, SuperviseReport& report) {
    const SupervisionConfig& config = kinds_[static_cast<std::size_t>(v.kind)].model().supervision;
    std::erase_if(row.restarts, [&](double t) { return t < now - config.restart_window_ms; });
    if (static_cast<std::int64_t>(row.restarts.size()) >= config.max_restarts) {
        // Restarting has not helped: the parent decides (its `child_failed` arcs).
        row.status = "failed";
        row.note = fmt::format("completed {} times within {} ms: child_failed sent to the parent",
                               row.restarts.size() + 1, config.restart_window_ms);
        tree_->save(row);
        const Value payload = Value::object(
            {{"child", row.name}, {"id", row.id}, {"restarts", static_cast<std::int64_t>(row.restarts.size())}});
        kinds_[static_cast<std::size_t>(v.kind)].machines->send(
            v.info.id, "child_failed", payload, fmt::format("child_failed:{}:{}", row.name, row.spec_version));
        ++report.escalated;
        return;
    }
    row.restarts.push_back(now);
    row.mapped.clear();
    row.status = "starting";
    tree_->save(row);
    kinds_[static_cast<std::size_t>(kind_index(row.kind))].machines->remove(row.id);
    forget_derived(kind_index(row.kind), row.id);  // a new instance: its children derived afresh
    start_child(row, report);
    ++report.restarted;
}

}  // namespace statenet::detail
