// MachinesImpl: start, send, how a step becomes a stored transition, reads and reload.
#include "machine/machines_impl.hpp"

#include "api/assembly.hpp"
#include "load/suggest.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <stdexcept>

namespace statenet::detail {

namespace {

/// A durable store's cache of more instances than this is dropped (it reloads from
/// the store on the next event): memory stays bounded whatever the store holds.
constexpr std::size_t max_cached = 4096;

}  // namespace

MachinesImpl::MachinesImpl(Engine& engine, const std::filesystem::path& file, MachinesOptions options)
    : file_(file), options_(std::move(options)) {
    clock_ = options_.clock           ? options_.clock
             : options_.store.empty() ? std::shared_ptr<Clock>(std::make_shared<ManualClock>(0))
                                      : wall_clock();
    if (options_.read_only) {
        if (options_.store.empty())
            throw std::invalid_argument("read-only machines need a store (MachinesOptions::store)");
        store_ = open_sqlite_store(options_.store, options_.full_sync, false);
        static const Model no_model;  // every state is named as stored
        store_->use_model(nullptr, no_model, nullptr);
        return;
    }
    Workflow workflow = engine.load(file, options_.load);
    // The machine set reloads its workflow itself, between events.
    workflow.impl().stop_reloading();
    engine_ = workflow.impl().engine;
    vm_ = make_vm(workflow);
    if (options_.store.empty()) store_ = open_memory_store(options_.memory_audit_limit);
    else store_ = open_sqlite_store(options_.store, options_.full_sync, options_.create_store);
    store_->use_model(nullptr, vm_->model(), nullptr);
    watch_.watch(vm_->model());
    use_actions();
}

MachinesImpl::~MachinesImpl() { pool_.reset(); }

void MachinesImpl::writable(const char* what) const {
    if (!vm_)
        throw std::logic_error(
            fmt::format("Machines::{}: these machines were opened read-only (the workflow is not loaded)", what));
}

void MachinesImpl::register_for_reload(const std::shared_ptr<MachinesImpl>& self) {
    if (!vm_) return;
    std::lock_guard lock(engine_->reload_mutex);
    engine_->reloadables.push_back(self);
}

SendResult MachinesImpl::start(std::string_view id, const Value& data) {
    writable("start");
    const double now = clock_->now_ms();
    SendResult r;
    r.instance = id;
    r.event = "start";
    guarded(id, [&] {
        InstanceRow row;
        if (store_->find(id, row, nullptr)) {
            r.status = SendStatus::duplicate;
            r.first = SendStatus::applied;
            r.from = r.to = state_name(row);
            r.completed = row.completed;
            r.reason = "the instance exists already";
            return;
        }
        if (!data.is_object())
            throw std::invalid_argument(
                fmt::format("machine instance '{}': data must be a JSON object, not {}", id, type_name(data.type())));
        const int handle = take_handle();
        MachineStep step = vm_->start(handle, data, id);
        if (step.code != MachineStep::Code::applied) {
            free_handles_.push_back(handle);
            reject(r, step);
            audit(r, now);
            return;
        }
        row.handle = handle;
        row.version = 0;
        apply(r, row, step, now, handle, true);
        audit(r, now);
    });
    return r;
}

SendResult MachinesImpl::send(std::string_view id, std::string_view event, const Value& payload, std::string_view key) {
    writable("send");
    const double now = clock_->now_ms();
    SendResult r;
    guarded(id, [&] { r = deliver(id, event, payload, key, now); });
    return r;
}

std::vector<SendResult> MachinesImpl::send_many(const std::vector<MachineEvent>& events) {
    writable("send_many");
    const double now = clock_->now_ms();
    std::vector<SendResult> results;
    results.reserve(events.size());
    try {
        store_->atomically([&] {
            // Unknown instances first: the in-memory store cannot roll a batch back.
            InstanceRow row;
            for (const auto& e : events)
                if (!store_->find(e.instance, row, nullptr))
                    throw std::invalid_argument(fmt::format("no machine instance '{}'", e.instance));
            for (const auto& e : events) results.push_back(deliver(e.instance, e.event, e.payload, e.key, now));
            write_data();
        });
    } catch (...) {
        discard();
        for (const auto& e : events) forget(e.instance);
        throw;
    }
    committed();
    return results;
}

std::optional<InstanceInfo> MachinesImpl::get(std::string_view id) {
    InstanceRow row;
    std::string json;
    if (!store_->find(id, row, &json)) return std::nullopt;
    return info(std::string(id), row, json);
}

std::vector<InstanceInfo> MachinesImpl::list(const ListOptions& options) {
    std::vector<InstanceInfo> out;
    store_->each([&](const std::string& id, const InstanceRow& row, const std::string& json) {
        if (options.limit > 0 && out.size() >= options.limit) return;
        if (!options.include_completed && row.completed) return;
        if (options.state) {
            const std::string name = state_name(row);
            const bool bare = options.state->find('/') == std::string::npos;
            if (bare ? !name.ends_with("/" + *options.state) : name != *options.state) return;
        }
        out.push_back(info(id, row, json));
    });
    return out;
}

std::vector<AuditEntry> MachinesImpl::audit_log(std::string_view id, std::size_t limit) {
    return store_->audit(id, limit);
}

ReloadReport MachinesImpl::reload() {
    writable("reload");
    std::lock_guard lock(mutex_);
    return reload_locked();
}

std::optional<ReloadReport> MachinesImpl::reload_if_changed() {
    writable("reload_if_changed");
    if (!watch_.changed()) return std::nullopt;
    return reload_locked();
}

std::unique_ptr<MachineVm> MachinesImpl::make_vm(const Workflow& workflow) {
    Diagnostics diags;
    check_machine_model(*workflow.impl().model(), diags);
    if (!diags.empty()) throw LoadError(std::move(diags.list));
    return std::make_unique<MachineVm>(workflow);
}

int MachinesImpl::take_handle() {
    if (free_handles_.empty()) return next_handle_++;
    int handle = free_handles_.back();
    free_handles_.pop_back();
    return handle;
}

void MachinesImpl::forget(std::string_view id) {
    if (!store_->durable()) return;
    auto it = cache_.find(std::string(id));
    if (it == cache_.end()) return;
    vm_->drop(it->second.handle);
    free_handles_.push_back(it->second.handle);
    cache_.erase(it);
}

void MachinesImpl::forget_all() {
    for (auto& [id, cached] : cache_) {
        vm_->drop(cached.handle);
        free_handles_.push_back(cached.handle);
    }
    cache_.clear();
}

void MachinesImpl::write_data() {
    for (auto& [id, change] : changed_) {
        Cached& cached = cache_.at(id);
        read_data(cached);
        store_->save(id, change.first, &cached.data, change.second);
    }
    changed_.clear();
}

void MachinesImpl::read_data(Cached& cached) {
    cached.data = vm_->get(cached.handle, cached.data.is_null() ? nullptr : &cached.data);
}

std::string MachinesImpl::state_name(const InstanceRow& row) const {
    return row.state >= 0 ? vm_->state(row.state).qualified : row.orphan_state;
}

int MachinesImpl::resident(std::string_view id, const InstanceRow& row) {
    if (!store_->durable()) return row.handle;
    if (cache_.size() > max_cached && changed_.empty()) forget_all();
    auto [it, fresh] = cache_.try_emplace(std::string(id), Cached{-1, -1, Value()});
    if (fresh) it->second.handle = take_handle();
    if (fresh || it->second.version != row.version) {
        it->second.data = Value::from_json(store_->data_json(id));
        it->second.version = row.version;
        vm_->put(it->second.handle, it->second.data);
        // find() orphans an instance whose push stack does not fit: this one does.
        if (!row.stack.empty())
            if (std::string problem = vm_->put_stack(it->second.handle, row.stack); !problem.empty())
                throw std::logic_error(fmt::format("machine instance '{}': {}", id, problem));
    }
    return it->second.handle;
}

SendResult MachinesImpl::deliver(std::string_view id, std::string_view event, const Value& payload,
                                 std::string_view key, double now) {
    if (!key.empty())
        if (auto prior = store_->find_key(id, key)) {
            prior->first = prior->status;
            prior->status = SendStatus::duplicate;
            return *prior;
        }
    SendResult r;
    r.instance = id;
    r.event = event;
    r.key = key;
    InstanceRow row;
    if (!store_->find(id, row, nullptr)) throw std::invalid_argument(fmt::format("no machine instance '{}'", id));
    r.from = r.to = state_name(row);
    r.completed = row.completed;
    if (row.completed) {
        r.reason = fmt::format("the instance is completed (in end state {})", r.from);
    } else if (row.state < 0) {
        r.reason = fmt::format("its state {} no longer exists in the workflow", r.from);
        if (std::string problem = stack_problem(vm_->model(), row.stack); !problem.empty())
            r.reason = fmt::format("its push stack no longer fits the workflow: {}", problem);
    } else {
        const int handle = resident(id, row);
        MachineStep step = vm_->fire(handle, row.state, row.previous, event, payload, id);
        if (step.code == MachineStep::Code::applied) apply(r, row, step, now, handle, false);
        else reject(r, step);
        if (step.code == MachineStep::Code::rejected) r.reason += unknown_event_hint(row.state, event);
        // In direct mode a failed step may have changed the data in place: a durable
        // instance reloads what the store holds.
        if (step.code == MachineStep::Code::failed && vm_->direct()) forget(id);
    }
    audit(r, now);
    if (!key.empty()) store_->save_key(r, now);
    return r;
}

void MachinesImpl::reject(SendResult& r, MachineStep& step) {
    r.status = SendStatus::rejected;
    if (step.error) {
        r.reason = step.error->name + ": " + step.error->message;
        r.error = std::move(step.error);
    } else {
        r.reason = std::move(step.reason);
    }
}

void MachinesImpl::apply(SendResult& r, InstanceRow& row, MachineStep& step, double now, int handle, bool created) {
    r.status = SendStatus::applied;
    if (step.messages > 0) write_messages(r, now);
    r.to = vm_->state(step.state).qualified;
    r.completed = step.completed;
    r.reason = std::move(step.reason);
    if (!step.label.empty()) r.event = std::move(step.label);
    row.previous = step.previous;  // machine.lua: the last other state (self-transitions keep it)
    row.state = step.state;
    row.orphan_state.clear();
    row.completed = step.completed;
    row.since_ms = now;
    const double next = step.completed ? -1 : vm_->next_timer_ms(step.state, -1);
    row.due_ms = next < 0 ? -1 : now + next;
    if (vm_->pushes()) row.stack.assign(vm_->stack_json(handle));
    ++row.version;
    const std::string& instance = r.instance;
    if (!store_->durable()) {
        store_->save(instance, row, nullptr, created);
        return;
    }
    auto it = cache_.try_emplace(instance, Cached{handle, row.version, Value()}).first;
    it->second.version = row.version;
    if (vm_->direct()) {
        // A later failing step may change this data in place: store it now.
        read_data(it->second);
        store_->save(instance, row, &it->second.data, created);
        return;
    }
    store_->save(instance, row, nullptr, created);  // the data follows in write_data()
    auto [change, fresh] = changed_.try_emplace(instance, row, created);
    if (!fresh) change->second = {row, change->second.second || created};
}

void MachinesImpl::write_messages(const SendResult& r, double now) {
    for (auto& m : vm_->take_messages()) {
        if (!m.action.empty()) {
            start_action(r.instance, m, now);
            continue;
        }
        OutboxEntry entry{r.instance, r.event, now, m.topic, m.instance, m.event, m.payload.to_json()};
        const std::int64_t seq = store_->append_outbox(entry);
        if (!m.topic.empty())
            emitted_.push_back({seq, r.instance, std::move(m.topic), std::move(m.payload), r.event, now});
        else sends_written_ = true;
    }
}

void MachinesImpl::deliver_sends() {
    // A delivered event may send more: at most this many per call, the rest wait for
    // the next call (a ping-pong between two instances cannot hold the lock forever).
    constexpr std::size_t max_deliveries = 1000;
    std::size_t delivered = 0;
    while (sends_written_ && delivered < max_deliveries) {
        sends_written_ = false;
        for (const PendingSend& p : store_->pending_sends(64)) {
            ++delivered;
            sends_written_ = true;  // there may be more
            const double now = clock_->now_ms();
            const std::string key = fmt::format("outbox:{}", p.seq);
            try {
                guarded(p.target, [&] {
                    deliver(p.target, p.event, Value::from_json(p.payload_json), key, now);
                    store_->mark_sent(p.seq, {});
                });
            } catch (const std::invalid_argument& e) {  // no such instance: undeliverable
                store_->atomically([&] { store_->mark_sent(p.seq, e.what()); });
            }
        }
    }
}

void MachinesImpl::discard() {
    changed_.clear();
    uncommitted_.clear();
    emitted_.clear();
    started_.clear();
}

void MachinesImpl::committed() {
    for (auto& notice : uncommitted_) notices_.push_back(std::move(notice));
    uncommitted_.clear();
    if (!started_.empty()) {
        std::vector<ActionJob> jobs;
        for (auto& a : started_)
            jobs.push_back({a.seq, std::move(a.instance), std::move(a.name), std::move(a.args_json)});
        started_.clear();
        if (pool_) pool_->submit(std::move(jobs));
    }
    // A start, send or timer may have set an earlier timer than run_timers sleeps for.
    woken_ = true;
    timers_changed_.notify_all();
}

std::size_t MachinesImpl::subscribe(MachineListener listener) {
    std::lock_guard lock(listeners_mutex_);
    listeners_.emplace_back(next_listener_, std::move(listener));
    listening_ = true;
    return next_listener_++;
}

void MachinesImpl::unsubscribe(std::size_t id) {
    std::lock_guard lock(listeners_mutex_);
    std::erase_if(listeners_, [&](const auto& entry) { return entry.first == id; });
    listening_ = !listeners_.empty();
}

void MachinesImpl::notify(const std::vector<Notice>& told) {
    if (told.empty()) return;
    std::vector<MachineListener> listeners;
    {
        std::lock_guard lock(listeners_mutex_);
        for (const auto& entry : listeners_) listeners.push_back(entry.second);
    }
    for (const auto& notice : told)
        for (const auto& listener : listeners) listener(notice.result, notice.emitted);
}

std::vector<std::string> MachinesImpl::events_of(int sid) const {
    std::vector<std::string> events;
    for (const Arc& arc : vm_->state(sid).arcs)
        if (!arc.on.empty()) events.push_back(arc.on);
    std::sort(events.begin(), events.end());
    events.erase(std::unique(events.begin(), events.end()), events.end());
    return events;
}

std::string MachinesImpl::unknown_event_hint(int sid, std::string_view event) const {
    const std::vector<std::string> here = events_of(sid);
    // The state has arcs for it: their conditions said no, and the reason says so.
    if (std::binary_search(here.begin(), here.end(), event)) return {};
    std::vector<std::string_view> anywhere;
    for (const auto& net : vm_->model().networks)
        for (const auto& s : net.states)
            for (const Arc& arc : s.arcs)
                if (!arc.on.empty()) anywhere.push_back(arc.on);
    std::string hint;
    if (std::find(anywhere.begin(), anywhere.end(), event) == anywhere.end()) {
        hint = suggest(event, anywhere);
        if (hint.empty()) hint = " (no state of the workflow has arcs for it)";
    }
    if (here.empty()) return hint + "; the state accepts no events";
    std::string list;
    for (const auto& name : here) list += (list.empty() ? "" : ", ") + name;
    return hint + "; it accepts: " + list;
}

std::vector<std::string> MachinesImpl::accepts(std::string_view id) {
    writable("accepts");
    InstanceRow row;
    if (!store_->find(id, row, nullptr)) throw std::invalid_argument(fmt::format("no machine instance '{}'", id));
    if (row.completed || row.state < 0) return {};
    return events_of(row.state);
}

void MachinesImpl::audit(const SendResult& r, double now) {
    // Without listeners nothing is kept: a send pays for no notice.
    if (listening_) uncommitted_.push_back({r, std::move(emitted_)});
    emitted_.clear();
    store_->append_audit(
        AuditEntry{0, r.instance, r.from, r.to, r.event, r.key, now, std::string(to_string(r.status)), r.reason});
}

InstanceInfo MachinesImpl::info(const std::string& id, const InstanceRow& row, const std::string& json) {
    InstanceInfo out;
    out.id = id;
    out.state = state_name(row);
    out.network = out.state.substr(0, out.state.find('/'));
    out.data = store_->durable() ? Value::from_json(json) : vm_->get(row.handle);
    out.version = row.version;
    out.completed = row.completed;
    out.orphaned = vm_ && row.state < 0;
    out.since_ms = row.since_ms;
    if (row.due_ms >= 0 && !row.completed) out.timer_due_ms = row.due_ms;
    out.stack = stack_frames(row.stack);
    return out;
}

ReloadReport MachinesImpl::reload_locked() {
    ReloadReport report;
    Diagnostics diags;
    std::shared_ptr<WorkflowImpl> loaded;
    try {
        loaded = load_workflow(engine_, read_workflow_file(file_), file_, options_.load, diags);
        if (loaded) check_machine_model(*loaded->model(), diags);
    } catch (const LoadError& e) {
        diags.list = e.diagnostics();
    }
    if (!loaded || !diags.empty()) {
        watch_.accept();
        report.ok = false;
        report.errors = std::move(diags.list);
        return report;
    }
    auto vm = std::make_unique<MachineVm>(Workflow(loaded));
    if (store_->durable()) {
        forget_all();
    } else {
        store_->each([&](const std::string&, const InstanceRow& row, const std::string&) {
            vm->put(row.handle, vm_->get(row.handle));
            // Frames the new version cannot return through stay in the row (use_model
            // orphans the instance) until a version that can is loaded.
            if (!row.stack.empty()) vm->put_stack(row.handle, row.stack);
        });
    }
    store_->use_model(&vm_->model(), vm->model(), &report.orphaned);
    vm_ = std::move(vm);
    watch_.watch(vm_->model());
    use_actions();
    return report;
}

std::vector<OutboxMessage> MachinesImpl::outbox(const OutboxOptions& options) { return store_->outbox(options); }

std::size_t MachinesImpl::ack(const std::vector<std::int64_t>& seqs) {
    std::size_t acked = 0;
    store_->atomically([&] { acked = store_->ack(seqs); });
    return acked;
}

bool MachinesImpl::remove(std::string_view id) {
    writable("remove");
    bool found = false;
    int handle = -1;
    store_->atomically([&] { found = store_->erase(id, handle); });
    if (store_->durable()) {
        forget(id);
    } else if (found) {
        vm_->drop(handle);
        free_handles_.push_back(handle);
    }
    return found;
}

PruneReport MachinesImpl::prune(double now) {
    writable("prune");
    PruneReport report;
    std::vector<std::pair<std::string, int>> removed;
    store_->atomically([&] { report = store_->prune(vm_->model().retention, now, removed); });
    for (const auto& [id, handle] : removed) {
        if (store_->durable()) {
            forget(id);
        } else {  // the in-memory store's data lives only in the VM
            vm_->drop(handle);
            free_handles_.push_back(handle);
        }
    }
    return report;
}

}  // namespace statenet::detail
