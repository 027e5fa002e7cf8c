// MachinesImpl: the machine set behind statenet::Machines — instances over a store, a
// MachineVm running their functions, timers, listeners and hot reload. Its parts:
// machines_impl.cpp (start, send, transitions, reads, reload), machine_timers.cpp
// (timers, game frames, recovery, the timer loop), machine_actions.cpp (actions started
// with ctx.start_action: their pool, outcomes, timeouts and recovery).
#pragma once

#include "api/workflow_impl.hpp"
#include "machine/action_pool.hpp"
#include "machine/file_watch.hpp"
#include "machine/machine_vm.hpp"
#include "machine/store.hpp"

#include <statenet/machines.hpp>

#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <type_traits>
#include <unordered_map>
#include <utility>
#include <vector>

namespace statenet::detail {

class MachinesImpl final : public Reloadable {
public:
    MachinesImpl(Engine& engine, const std::filesystem::path& file, MachinesOptions options);
    ~MachinesImpl() override;
    void register_for_reload(const std::shared_ptr<MachinesImpl>& self);
    bool recovers_on_open() const { return options_.recover_on_open && vm_; }
    /// Throws std::logic_error naming `what` when opened read-only.
    void writable(const char* what) const;

    SendResult start(std::string_view id, const Value& data);
    SendResult send(std::string_view id, std::string_view event, const Value& payload, std::string_view key);
    std::vector<SendResult> send_many(const std::vector<MachineEvent>& events);
    std::vector<SendResult> tick(double now);
    /// Fires the due timers of the instances `held` does not hold back (a supervisor's
    /// open breaker holds its children).
    std::vector<SendResult> tick(double now, const std::function<bool(std::string_view)>& held);
    /// Deletes an instance and its keys (a supervisor removing a child); false: none.
    bool remove(std::string_view id);
    double now() { return clock_->now_ms(); }

    void post(std::string_view id, std::string_view event, const Value& payload);
    std::size_t step(double dt_ms);
    std::vector<SendResult> recover(double now);
    std::optional<double> next_due();
    MachineCensus census(double now) {
        return store_->census(now, [this](const InstanceRow& row) { return state_name(row); });
    }
    void run_timers(const std::function<bool()>& stop);
    void wake();
    std::vector<std::string> accepts(std::string_view id);
    /// `data` false: the instance's data is not read (left null).
    std::optional<InstanceInfo> get(std::string_view id, bool data = true);
    Workflow workflow() const;
    std::vector<InstanceInfo> list(const ListOptions& options);
    std::vector<AuditEntry> audit_log(std::string_view id, std::size_t limit);
    ReloadReport reload() override;
    std::optional<ReloadReport> reload_if_changed();

    std::vector<OutboxMessage> outbox(const OutboxOptions& options);
    std::size_t ack(const std::vector<std::int64_t>& seqs);
    PruneReport prune(double now);

    std::size_t subscribe(MachineListener listener);
    void unsubscribe(std::size_t id);
    /// Runs `work` under the lock, then tells the listeners what it did. Every public
    /// operation runs through it.
    template <class F>
    auto locked(F&& work) {
        std::vector<Notice> told;
        // Pending sends are delivered before the lock is released; the listeners are
        // told after, so they may call back in.
        auto settle = [&] {
            if (sends_written_ && vm_) deliver_sends();
            told.swap(notices_);
        };
        if constexpr (std::is_void_v<decltype(work())>) {
            {
                std::lock_guard lock(mutex_);
                work();
                settle();
            }
            notify(told);
        } else {
            auto result = [&] {
                std::lock_guard lock(mutex_);
                auto value = work();
                settle();
                return value;
            }();
            notify(told);
            return result;
        }
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
    /// Committed transitions not yet told to the listeners.
    struct Notice {
        SendResult result;
        std::vector<OutboxMessage> emitted;
    };
    std::vector<Notice> notices_;
    std::vector<Notice> uncommitted_;     // this transaction's
    std::vector<OutboxMessage> emitted_;  // the step being applied's, until its audit row
    bool sends_written_ = true;           // sends may wait for delivery (at open: from a crash)
    std::mutex listeners_mutex_;
    std::vector<std::pair<std::size_t, MachineListener>> listeners_;
    std::size_t next_listener_ = 1;
    std::atomic<bool> listening_{false};
    std::condition_variable timers_changed_;
    bool woken_ = false;
    std::vector<OpenAction> started_;  // actions this transaction started, run once it commits
    /// Runs the actions (null when the workflow declares none or action_workers is 0);
    /// destroyed first, while what its workers call back into is still whole.
    std::unique_ptr<ActionPool> pool_;

    void notify(const std::vector<Notice>& told);
    /// Forgets what a transaction that failed had queued for after its commit.
    void discard();

    // Actions (machine_actions.cpp).
    /// Starts (or sets up again after a reload) the pool when the workflow has actions.
    void use_actions();
    /// Records an action a step started (ctx.start_action), unless one of that name is
    /// already open for the instance.
    void start_action(const std::string& instance, MachineMessage& m, double now);
    /// On a worker's thread: delivers an action's outcome to its instance.
    void action_finished(const ActionJob& job, ActionOutcome outcome);
    /// Closes open action `a` and sends `event` with `payload` to its instance, keyed
    /// `action:<seq>`, in one transaction; nothing when it was closed already.
    void end_action(const OpenAction& a, std::string_view event, const Value& payload, std::string_view outcome,
                    double now);
    /// Sends action_timeout for the open actions whose deadline has passed.
    void expire_actions(double now);
    /// Open actions this process does not run (left by a process that ended, or by one
    /// without workers): run again, or failed (`on_restart = "fail"`).
    void resume_actions(double now);
    /// Writes the applied step's ctx.emit / ctx.send messages to the outbox.
    void write_messages(const SendResult& r, double now);
    /// Delivers the outbox's pending sends, each in its own transaction with an
    /// idempotency key derived from its seq, so each is applied exactly once.
    void deliver_sends();

    static std::unique_ptr<MachineVm> make_vm(const Workflow& workflow);

    int take_handle();

    /// Forgets what the VM holds for a durable instance (it reloads from the store).
    void forget(std::string_view id);
    void forget_all();

    /// Runs `work` in one store transaction; when it fails, the VM's copy of the
    /// instance may be ahead of the store, so it is forgotten.
    /// Its transitions are told to the listeners once it has committed.
    template <class F>
    void guarded(std::string_view id, F&& work) {
        try {
            store_->atomically([&] {
                work();
                write_data();
            });
        } catch (...) {
            discard();
            forget(id);
            throw;
        }
        committed();
    }
    /// The transaction committed: its transitions may be told.
    void committed();

    /// Hands the data of the instances a transaction changed to the durable store,
    /// once per instance however many events moved it.
    void write_data();
    void read_data(Cached& cached);
    std::string state_name(const InstanceRow& row) const;

    /// The VM handle of an instance's data, loading it from the store when needed.
    int resident(std::string_view id, const InstanceRow& row);
    SendResult deliver(std::string_view id, std::string_view event, const Value& payload, std::string_view key,
                       double now);

    static void reject(SendResult& r, MachineStep& step);

    /// Records an applied step: the new state, data, timer and version.
    void apply(SendResult& r, InstanceRow& row, MachineStep& step, double now, int handle, bool created);
    void audit(const SendResult& r, double now);
    std::vector<SendResult> fire_timers(double now, const std::function<bool(std::string_view)>& held = {});

    /// Fires instance `id`'s due timer arc; false when none fired (its guards held it
    /// back: the timer moves on to the state's next after_ms, without an audit row).
    bool fire_timer(const std::string& id, double now, SendResult& r);

    /// The events state `sid` has arcs for, sorted, each once.
    std::vector<std::string> events_of(int sid) const;
    /// What a rejection for an event the state has no arcs for adds to its reason:
    /// the events the state accepts, a did-you-mean when no state knows the event.
    std::string unknown_event_hint(int sid, std::string_view event) const;
    /// `json`: a durable store's data of the instance; null: the data is not read.
    InstanceInfo info(const std::string& id, const InstanceRow& row, const std::string* json);
    /// The state ids `names` (`network/state` or state names) name in the loaded model.
    std::vector<int> state_ids(const std::vector<std::string>& names) const;
    ReloadReport reload_locked();
};

}  // namespace statenet::detail
