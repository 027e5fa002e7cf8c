// statenet::Machines: long-lived, event-driven instances of a workflow's main network.
#pragma once

#include <statenet/engine.hpp>
#include <statenet/error.hpp>
#include <statenet/export.hpp>
#include <statenet/value.hpp>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace statenet {

namespace detail {
class MachinesImpl;
}

/// A clock that only moves when told to: game time for Machines::step(dt), and
/// injected time for tests.
class STATENET_API ManualClock final : public Clock {
public:
    explicit ManualClock(double start_ms = 0) : now_(start_ms) {}
    double now_ms() override { return now_; }
    /// Advances the clock instead of sleeping.
    void sleep_ms(double ms) override { now_ += ms; }
    void set(double ms) { now_ = ms; }
    void advance(double ms) { now_ += ms; }

private:
    double now_;
};

/// Wall-clock time in whole milliseconds since the Unix epoch: durable timers survive
/// restarts with it.
STATENET_API std::shared_ptr<Clock> wall_clock();

struct MachinesOptions {
    /// SQLite database file of the durable store; empty = the in-memory store.
    std::filesystem::path store{};
    /// Time of events, timers and the audit log. Default: wall_clock() for the SQLite
    /// store, a ManualClock at 0 (moved by step(dt)) for the in-memory store.
    std::shared_ptr<Clock> clock{};
    /// Sends the workflow's `[recovery]` event to idle instances when opened.
    bool recover_on_open = true;
    /// SQLite synchronous=FULL (audit-grade durability) instead of NORMAL.
    bool full_sync = false;
    /// In-memory store: the audit log keeps at most this many rows (oldest dropped).
    std::size_t memory_audit_limit = 100000;
    /// Passed to Engine::load for the workflow.
    LoadOptions load{};
    /// Create the SQLite store when the file does not exist; false: that is an error
    /// (a typo in a path must not open an empty store).
    bool create_store = true;
    /// Open the store without running the workflow: get, list, audit, accepts and the
    /// outbox work (state names as stored), while start, send, timers and prune throw
    /// std::logic_error. For looking at a store whose workflow does not load.
    bool read_only = false;
    /// Worker threads that run the workflow's `[actions]` (ctx.start_action), each with
    /// a Lua VM of its own; started only when the workflow declares actions. 0: these
    /// machines run none (they wait in the store for machines that do, which pick them
    /// up in recover()).
    std::size_t action_workers = 2;
};

enum class SendStatus { applied, rejected, duplicate };

STATENET_API std::string_view to_string(SendStatus status) noexcept;

/// The outcome of start, send, a timer or a recovery event.
struct SendResult {
    SendStatus status = SendStatus::rejected;
    /// For a duplicate: what the first send with that key did (applied or rejected).
    SendStatus first = SendStatus::rejected;
    std::string instance;
    std::string event;       ///< the event, "after_ms=N" for a timer, "start" for start
    std::string key;         ///< the idempotency key, if any
    std::string from, to;    ///< `network/state` before and after (equal when rejected)
    bool completed = false;  ///< the instance is (now) in an end state
    /// Rejected: why. Applied: the reason the arc's condition returned, if any.
    std::string reason;
    /// Set when the rejection comes from a failing function (validator, Lua error).
    std::optional<ErrorInfo> error;
};

/// One event of send_many.
struct MachineEvent {
    std::string instance;
    std::string event;
    Value payload{};
    std::string key{};
};

/// A sub-network an instance is inside, entered by a push arc: one frame of its push
/// stack (docs/machines.md#push-arcs-sub-networks).
struct PushFrame {
    std::string state;    ///< the pushing state, `network/state`
    std::string network;  ///< the sub-network it pushed into
    /// Where it returns when the sub-network ends; none: the caller ends there too.
    std::optional<std::string> return_to{};
};

/// An instance as stored.
struct InstanceInfo {
    std::string id;
    std::string network;
    std::string state;  ///< `network/state`
    Value data;
    std::int64_t version = 0;  ///< counts applied transitions
    bool completed = false;
    /// Its state no longer exists in the loaded workflow (after a reload): events are
    /// rejected until a workflow with that state is loaded again.
    bool orphaned = false;
    double since_ms = 0;                   ///< when it entered its state
    std::optional<double> timer_due_ms{};  ///< next timer check
    /// The sub-networks it is inside (push arcs), outermost first; empty in the main network.
    std::vector<PushFrame> stack{};
};

/// One row of the audit log: every applied and rejected transition.
struct AuditEntry {
    std::int64_t seq = 0;
    std::string instance;
    std::string from, to;
    std::string event;
    std::string key;
    double time_ms = 0;
    std::string outcome;  ///< "applied" or "rejected"
    std::string reason;
};

/// A message a transition emitted with `ctx.emit(topic, payload)`: written to the
/// outbox in the same store transaction as the transition, kept until acknowledged.
struct OutboxMessage {
    std::int64_t seq = 0;  ///< increasing over the store
    std::string instance;  ///< whose transition emitted it
    std::string topic;
    Value payload;
    std::string event;  ///< the event (or timer) of that transition
    double time_ms = 0;
};

struct OutboxOptions {
    std::int64_t after_seq = 0;          ///< only messages with a larger seq
    std::optional<std::string> topic{};  ///< only this topic
    std::size_t limit = 0;               ///< 0 = all
};

/// Told after every transition (applied or rejected, from a send, a timer, start or
/// recovery) once it has committed, with the messages it emitted. Runs on the thread
/// that made the call, after the call's lock is released; must not block for long.
using MachineListener = std::function<void(const SendResult&, const std::vector<OutboxMessage>&)>;

/// What Machines::prune removed (see `[retention]` in docs/machines.md).
struct PruneReport {
    std::size_t keys = 0;       ///< idempotency keys older than keys_ms
    std::size_t audit = 0;      ///< audit rows older than audit_ms
    std::size_t instances = 0;  ///< completed instances finished longer than completed_ms ago
    std::size_t outbox = 0;     ///< acknowledged outbox messages
};

/// How many instances are in each state and how many timers are due: what a metrics
/// endpoint reports, counted by the store without reading any instance's data.
struct MachineCensus {
    std::map<std::string, std::size_t> by_state;  ///< `network/state` -> instances
    std::size_t timers_due = 0;                   ///< non-completed instances whose timer is due
};

struct ListOptions {
    std::optional<std::string> state{};  ///< only instances in this `network/state` (or state name)
    bool include_completed = true;
    std::size_t limit = 0;  ///< 0 = all
};

/// Long-lived instances of a workflow's main network, driven by events and timers,
/// over a durable SQLite store or an in-memory one. Every call is thread-safe; calls
/// are serialized, and a hot reload happens between them.
class STATENET_API Machines {
public:
    /// Loads the workflow (throws LoadError) and opens the store (throws
    /// std::runtime_error); runs recovery when the workflow declares `[recovery]`.
    Machines(Engine& engine, const std::filesystem::path& workflow, MachinesOptions options = {});
    ~Machines();
    Machines(const Machines&) = delete;
    Machines& operator=(const Machines&) = delete;

    /// Creates instance `id` with `data` in the main network's start state (following
    /// its immediate arcs). Idempotent by id: an existing instance is left as it is
    /// and reported with status duplicate. A failing start creates nothing (rejected).
    SendResult start(std::string_view id, const Value& data = Value::object());

    /// Sends an event; `payload` is ctx.event in the functions that run. Applied,
    /// rejected (no arc for it passes; state and data unchanged) or duplicate (a send
    /// with the same non-empty `key` for this instance already ran: its outcome is
    /// returned, nothing runs). The key, the new state and data and the audit row
    /// commit together. Throws std::invalid_argument for an unknown instance.
    SendResult send(std::string_view id, std::string_view event, const Value& payload = {}, std::string_view key = {});
    /// Sends each event in order, all in one store transaction. An unknown instance
    /// fails the whole batch (std::invalid_argument) before any event runs.
    std::vector<SendResult> send_many(const std::vector<MachineEvent>& events);

    /// Fires every timer due at `now_ms` (the clock's time when omitted).
    std::vector<SendResult> tick();
    std::vector<SendResult> tick(double now_ms);
    /// Fires the timers due at `now_ms` of every instance `held(id)` does not hold back.
    std::vector<SendResult> tick(double now_ms, const std::function<bool(std::string_view)>& held);

    /// Deletes an instance and its idempotency keys (its audit rows stay): what a
    /// supervisor does to a removed child. False when there is none.
    bool remove(std::string_view id);

    /// Queues an event for the next step(). Throws std::invalid_argument for an
    /// unknown instance.
    void post(std::string_view id, std::string_view event, const Value& payload = {});
    /// A game frame: delivers the queued events, advances the ManualClock by `dt_ms`
    /// and fires the timers then due. Returns how many transitions were applied.
    /// Throws std::logic_error when the clock is not a ManualClock.
    std::size_t step(double dt_ms);

    /// When the earliest timer is due (clock time, ms), nullopt when no timer is set:
    /// an event loop sleeps until then and calls tick().
    std::optional<double> next_due();
    /// Fires every timer at its due time on the calling thread until `stop` is
    /// requested: sleeps until the next due time, waking early when a send or start
    /// sets an earlier one. (A ManualClock does not move by itself: use step().)
    void run_timers(const std::function<bool()>& stop);
    /// Wakes run_timers (e.g. after setting the stop flag).
    void wake();

    /// Sends the `[recovery]` event to every non-end instance idle (no applied
    /// transition) for longer than `idle_ms` at `now_ms`. Nothing without `[recovery]`.
    std::vector<SendResult> recover();
    std::vector<SendResult> recover(double now_ms);

    std::optional<InstanceInfo> get(std::string_view id);
    std::vector<InstanceInfo> list(const ListOptions& options = {});
    /// Audit rows of one instance (every instance when `id` is empty), oldest first;
    /// `limit` > 0 keeps the newest `limit`.
    std::vector<AuditEntry> audit(std::string_view id = {}, std::size_t limit = 0);

    /// Instances by state and timers due at `now_ms` (the clock's time when omitted).
    MachineCensus census();
    MachineCensus census(double now_ms);

    /// The events the instance's current state has arcs for, sorted (empty for a
    /// completed or orphaned instance). Throws std::invalid_argument for an unknown one.
    std::vector<std::string> accepts(std::string_view id);

    /// Unacknowledged outbox messages, oldest first.
    std::vector<OutboxMessage> outbox(const OutboxOptions& options = {});
    /// Acknowledges messages: they are no longer listed and prune() removes them.
    /// Returns how many were unacknowledged before.
    std::size_t ack(const std::vector<std::int64_t>& seqs);

    /// Adds a listener; returns its id for unsubscribe.
    std::size_t subscribe(MachineListener listener);
    void unsubscribe(std::size_t id);

    /// Applies the workflow's `[retention]` at `now_ms` (the clock's time when omitted).
    PruneReport prune();
    PruneReport prune(double now_ms);

    /// Loads the workflow file again (new model, new Lua VM) and swaps it in between
    /// events. Every instance keeps its state and data.
    ReloadReport reload();
    /// Reloads when the workflow file, a Lua module it loaded (at any depth) or a `.lua`
    /// file under its `scripts` directories changed since the last load, or a file
    /// appeared where `require` would now find a module; nullopt when nothing changed.
    std::optional<ReloadReport> reload_if_changed();

private:
    std::shared_ptr<detail::MachinesImpl> impl_;
};

}  // namespace statenet
