// Machines: instances over a store, driven by events, timers and recovery; hot reload.
#include "api/assembly.hpp"
#include "api/workflow_impl.hpp"
#include "machine/file_watch.hpp"
#include "machine/machine_vm.hpp"
#include "machine/store.hpp"

#include <statenet/machines.hpp>

#include <fmt/format.h>

#include <chrono>
#include <deque>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <unordered_map>

namespace statenet {

namespace {

class WallClock final : public Clock {
public:
    double now_ms() override {
        using namespace std::chrono;
        return duration<double, std::milli>(system_clock::now().time_since_epoch()).count();
    }
    void sleep_ms(double ms) override { std::this_thread::sleep_for(std::chrono::duration<double, std::milli>(ms)); }
};

}  // namespace

std::shared_ptr<Clock> wall_clock() {
    static auto clock = std::make_shared<WallClock>();
    return clock;
}

std::string_view to_string(SendStatus status) noexcept {
    switch (status) {
    case SendStatus::applied: return "applied";
    case SendStatus::rejected: return "rejected";
    case SendStatus::duplicate: return "duplicate";
    }
    return "rejected";
}

namespace detail {

namespace {

/// A durable store's cache of more instances than this is dropped (it reloads from
/// the store on the next event): memory stays bounded whatever the store holds.
constexpr std::size_t max_cached = 4096;

}  // namespace

class MachinesImpl final : public Reloadable {
public:
    MachinesImpl(Engine& engine, const std::filesystem::path& file, MachinesOptions options)
        : file_(file), options_(std::move(options)) {
        Workflow workflow = engine.load(file, options_.load);
        // The machine set reloads its workflow itself, between events.
        workflow.impl().stop_reloading();
        engine_ = workflow.impl().engine;
        vm_ = make_vm(workflow);
        if (options_.store.empty()) store_ = open_memory_store(options_.memory_audit_limit);
        else store_ = open_sqlite_store(options_.store, options_.full_sync);
        store_->use_model(nullptr, vm_->model(), nullptr);
        clock_ = options_.clock           ? options_.clock
                 : options_.store.empty() ? std::shared_ptr<Clock>(std::make_shared<ManualClock>(0))
                                          : wall_clock();
        watch_.watch(vm_->model());
    }

    void register_for_reload(const std::shared_ptr<MachinesImpl>& self) {
        std::lock_guard lock(engine_->reload_mutex);
        engine_->reloadables.push_back(self);
    }

    bool recovers_on_open() const { return options_.recover_on_open; }

    SendResult start(std::string_view id, const Value& data) {
        std::lock_guard lock(mutex_);
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
                throw std::invalid_argument(fmt::format("machine instance '{}': data must be a JSON object, not {}", id,
                                                        type_name(data.type())));
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

    SendResult send(std::string_view id, std::string_view event, const Value& payload, std::string_view key) {
        std::lock_guard lock(mutex_);
        const double now = clock_->now_ms();
        SendResult r;
        guarded(id, [&] { r = deliver(id, event, payload, key, now); });
        return r;
    }

    std::vector<SendResult> send_many(const std::vector<MachineEvent>& events) {
        std::lock_guard lock(mutex_);
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
            changed_.clear();
            for (const auto& e : events) forget(e.instance);
            throw;
        }
        return results;
    }

    std::vector<SendResult> tick(double now) {
        std::lock_guard lock(mutex_);
        return fire_timers(now);
    }

    double now() { return clock_->now_ms(); }

    void post(std::string_view id, std::string_view event, const Value& payload) {
        std::lock_guard lock(mutex_);
        // Checked now, since step() cannot report it to the caller that queued it.
        InstanceRow row;
        if (!store_->find(id, row, nullptr)) throw std::invalid_argument(fmt::format("no machine instance '{}'", id));
        queue_.push_back({std::string(id), std::string(event), payload, {}});
    }

    std::size_t step(double dt_ms) {
        std::lock_guard lock(mutex_);
        auto* manual = dynamic_cast<ManualClock*>(clock_.get());
        if (!manual)
            throw std::logic_error("Machines::step(dt) drives a ManualClock; these machines use another clock");
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

    std::vector<SendResult> recover(double now) {
        std::lock_guard lock(mutex_);
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

    std::optional<InstanceInfo> get(std::string_view id) {
        std::lock_guard lock(mutex_);
        InstanceRow row;
        std::string json;
        if (!store_->find(id, row, &json)) return std::nullopt;
        return info(std::string(id), row, json);
    }

    std::vector<InstanceInfo> list(const ListOptions& options) {
        std::lock_guard lock(mutex_);
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

    std::vector<AuditEntry> audit_log(std::string_view id, std::size_t limit) {
        std::lock_guard lock(mutex_);
        return store_->audit(id, limit);
    }

    ReloadReport reload() override {
        std::lock_guard lock(mutex_);
        return reload_locked();
    }

    std::optional<ReloadReport> reload_if_changed() {
        std::lock_guard lock(mutex_);
        if (!watch_.changed()) return std::nullopt;
        return reload_locked();
    }

private:
    struct Cached {
        int handle;
        std::int64_t version;
        Value data;  // what the store holds: keeps field order stable across writes
    };

    std::filesystem::path file_;
    MachinesOptions options_;
    std::shared_ptr<EngineImpl> engine_;
    std::unique_ptr<MachineVm> vm_;
    std::unique_ptr<Store> store_;
    std::shared_ptr<Clock> clock_;
    FileWatch watch_;
    std::mutex mutex_;
    std::unordered_map<std::string, Cached> cache_;                          // durable stores: data resident in the VM
    std::unordered_map<std::string, std::pair<InstanceRow, bool>> changed_;  // this transaction's: row, created
    std::vector<int> free_handles_;
    int next_handle_ = 1;
    std::deque<MachineEvent> queue_;

    static std::unique_ptr<MachineVm> make_vm(const Workflow& workflow) {
        Diagnostics diags;
        check_machine_model(*workflow.impl().model(), diags);
        if (!diags.empty()) throw LoadError(std::move(diags.list));
        return std::make_unique<MachineVm>(workflow);
    }

    int take_handle() {
        if (free_handles_.empty()) return next_handle_++;
        int handle = free_handles_.back();
        free_handles_.pop_back();
        return handle;
    }

    /// Forgets what the VM holds for a durable instance (it reloads from the store).
    void forget(std::string_view id) {
        if (!store_->durable()) return;
        auto it = cache_.find(std::string(id));
        if (it == cache_.end()) return;
        vm_->drop(it->second.handle);
        free_handles_.push_back(it->second.handle);
        cache_.erase(it);
    }

    void forget_all() {
        for (auto& [id, cached] : cache_) {
            vm_->drop(cached.handle);
            free_handles_.push_back(cached.handle);
        }
        cache_.clear();
    }

    /// Runs `work` in one store transaction; when it fails, the VM's copy of the
    /// instance may be ahead of the store, so it is forgotten.
    template <class F>
    void guarded(std::string_view id, F&& work) {
        try {
            store_->atomically([&] {
                work();
                write_data();
            });
        } catch (...) {
            changed_.clear();
            forget(id);
            throw;
        }
    }

    /// Hands the data of the instances a transaction changed to the durable store,
    /// once per instance however many events moved it.
    void write_data() {
        for (auto& [id, change] : changed_) {
            Cached& cached = cache_.at(id);
            read_data(cached);
            store_->save(id, change.first, &cached.data, change.second);
        }
        changed_.clear();
    }

    void read_data(Cached& cached) {
        cached.data = vm_->get(cached.handle, cached.data.is_null() ? nullptr : &cached.data);
    }

    std::string state_name(const InstanceRow& row) const {
        return row.state >= 0 ? vm_->state(row.state).qualified : row.orphan_state;
    }

    /// The VM handle of an instance's data, loading it from the store when needed.
    int resident(std::string_view id, const InstanceRow& row) {
        if (!store_->durable()) return row.handle;
        if (cache_.size() > max_cached && changed_.empty()) forget_all();
        auto [it, fresh] = cache_.try_emplace(std::string(id), Cached{-1, -1, Value()});
        if (fresh) it->second.handle = take_handle();
        if (fresh || it->second.version != row.version) {
            it->second.data = Value::from_json(store_->data_json(id));
            it->second.version = row.version;
            vm_->put(it->second.handle, it->second.data);
        }
        return it->second.handle;
    }

    SendResult deliver(std::string_view id, std::string_view event, const Value& payload, std::string_view key,
                       double now) {
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
        } else {
            const int handle = resident(id, row);
            MachineStep step = vm_->fire(handle, row.state, event, payload, id);
            if (step.code == MachineStep::Code::applied) apply(r, row, step, now, handle, false);
            else reject(r, step);
            // In direct mode a failed step may have changed the data in place: a durable
            // instance reloads what the store holds.
            if (step.code == MachineStep::Code::failed && vm_->direct()) forget(id);
        }
        audit(r, now);
        if (!key.empty()) store_->save_key(r);
        return r;
    }

    static void reject(SendResult& r, MachineStep& step) {
        r.status = SendStatus::rejected;
        if (step.error) {
            r.reason = step.error->name + ": " + step.error->message;
            r.error = std::move(step.error);
        } else {
            r.reason = std::move(step.reason);
        }
    }

    /// Records an applied step: the new state, data, timer and version.
    void apply(SendResult& r, InstanceRow& row, MachineStep& step, double now, int handle, bool created) {
        r.status = SendStatus::applied;
        r.to = vm_->state(step.state).qualified;
        r.completed = step.completed;
        r.reason = std::move(step.reason);
        if (!step.label.empty()) r.event = std::move(step.label);
        row.state = step.state;
        row.orphan_state.clear();
        row.completed = step.completed;
        row.since_ms = now;
        const double next = step.completed ? -1 : vm_->next_timer_ms(step.state, -1);
        row.due_ms = next < 0 ? -1 : now + next;
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

    void audit(const SendResult& r, double now) {
        store_->append_audit(
            AuditEntry{0, r.instance, r.from, r.to, r.event, r.key, now, std::string(to_string(r.status)), r.reason});
    }

    std::vector<SendResult> fire_timers(double now) {
        std::vector<SendResult> results;
        for (const auto& id : store_->due(now)) {
            SendResult r;
            bool fired = false;
            guarded(id, [&] { fired = fire_timer(id, now, r); });
            if (fired) results.push_back(std::move(r));
        }
        return results;
    }

    /// Fires instance `id`'s due timer arc; false when none fired (its guards held it
    /// back: the timer moves on to the state's next after_ms, without an audit row).
    bool fire_timer(const std::string& id, double now, SendResult& r) {
        InstanceRow row;
        if (!store_->find(id, row, nullptr)) return false;
        if (row.completed || row.state < 0 || row.due_ms < 0 || row.due_ms > now) return false;
        r.instance = id;
        r.from = r.to = state_name(row);
        const double elapsed = now - row.since_ms;
        const int handle = resident(id, row);
        MachineStep step = vm_->fire_timer(handle, row.state, elapsed, id);
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

    InstanceInfo info(const std::string& id, const InstanceRow& row, const std::string& json) {
        InstanceInfo out;
        out.id = id;
        out.state = state_name(row);
        out.network = out.state.substr(0, out.state.find('/'));
        out.data = store_->durable() ? Value::from_json(json) : vm_->get(row.handle);
        out.version = row.version;
        out.completed = row.completed;
        out.orphaned = row.state < 0;
        out.since_ms = row.since_ms;
        if (row.due_ms >= 0 && !row.completed) out.timer_due_ms = row.due_ms;
        return out;
    }

    ReloadReport reload_locked() {
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
            });
        }
        store_->use_model(&vm_->model(), vm->model(), &report.orphaned);
        vm_ = std::move(vm);
        watch_.watch(vm_->model());
        return report;
    }
};

}  // namespace detail

Machines::Machines(Engine& engine, const std::filesystem::path& workflow, MachinesOptions options)
    : impl_(std::make_shared<detail::MachinesImpl>(engine, workflow, std::move(options))) {
    impl_->register_for_reload(impl_);
    if (impl_->recovers_on_open()) impl_->recover(impl_->now());
}

Machines::~Machines() = default;

SendResult Machines::start(std::string_view id, const Value& data) { return impl_->start(id, data); }

SendResult Machines::send(std::string_view id, std::string_view event, const Value& payload, std::string_view key) {
    return impl_->send(id, event, payload, key);
}

std::vector<SendResult> Machines::send_many(const std::vector<MachineEvent>& events) {
    return impl_->send_many(events);
}

std::vector<SendResult> Machines::tick() { return impl_->tick(impl_->now()); }
std::vector<SendResult> Machines::tick(double now_ms) { return impl_->tick(now_ms); }

void Machines::post(std::string_view id, std::string_view event, const Value& payload) {
    impl_->post(id, event, payload);
}
std::size_t Machines::step(double dt_ms) { return impl_->step(dt_ms); }

std::vector<SendResult> Machines::recover() { return impl_->recover(impl_->now()); }
std::vector<SendResult> Machines::recover(double now_ms) { return impl_->recover(now_ms); }

std::optional<InstanceInfo> Machines::get(std::string_view id) { return impl_->get(id); }
std::vector<InstanceInfo> Machines::list(const ListOptions& options) { return impl_->list(options); }
std::vector<AuditEntry> Machines::audit(std::string_view id, std::size_t limit) { return impl_->audit_log(id, limit); }

ReloadReport Machines::reload() { return impl_->reload(); }
std::optional<ReloadReport> Machines::reload_if_changed() { return impl_->reload_if_changed(); }

}  // namespace statenet
