// Store: where machine instances, idempotency keys and the audit log live (SQLite or memory).
#pragma once

#include "model/model.hpp"

#include <statenet/machines.hpp>

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace statenet::detail {

/// Text that costs one pointer while empty: an instance's push stack, which most
/// instances never have (the in-memory store keeps a row per instance).
class StackText {
public:
    StackText() = default;
    StackText(std::string text) { assign(std::move(text)); }
    StackText(const StackText& other) { *this = other; }
    StackText& operator=(const StackText& other) {
        if (this != &other) text_ = other.text_ ? std::make_unique<std::string>(*other.text_) : nullptr;
        return *this;
    }
    StackText(StackText&&) noexcept = default;
    StackText& operator=(StackText&&) noexcept = default;
    ~StackText() = default;

    bool empty() const noexcept { return !text_; }
    operator std::string_view() const noexcept { return text_ ? std::string_view(*text_) : std::string_view(); }
    const std::string& str() const noexcept {
        static const std::string none;
        return text_ ? *text_ : none;
    }
    void assign(std::string text) { text_ = text.empty() ? nullptr : std::make_unique<std::string>(std::move(text)); }

private:
    std::unique_ptr<std::string> text_;
};

/// An instance's row, without its data.
struct InstanceRow {
    int state = -1;            ///< global state id in the loaded model; -1 = orphaned
    int previous = -1;         ///< the state it came from (`to = "@previous"`); -1 = none
    std::string orphan_state;  ///< `network/state` of an orphaned instance
    std::int64_t version = 0;
    double since_ms = 0;  ///< when it entered its state
    double due_ms = -1;   ///< next timer check; < 0 = none
    int handle = -1;      ///< in-memory store: where its data lives in the VM
    bool completed = false;
    /// Inside sub-networks (push arcs): the frames it returns through, outermost first,
    /// as JSON text (src/machine/machine_stack.cpp); empty in the main network.
    StackText stack;
};

/// The frames of a stored push stack as InstanceInfo shows them.
std::vector<PushFrame> stack_frames(std::string_view json);
/// Why a stored push stack does not fit `model` (a pushing state or its push arc is
/// gone); empty when it fits.
std::string stack_problem(const Model& model, std::string_view json);

/// The first outcome of an idempotency key, replayed for duplicates.
using KeyedOutcome = SendResult;

/// What a transition writes to the outbox: a message it emitted (`topic`) or an event
/// it sends to an instance (`target`, `target_event`), delivered after it commits.
struct OutboxEntry {
    std::string instance;  ///< the instance whose transition wrote it
    std::string event;     ///< that transition's event
    double time_ms = 0;
    std::string topic;                 ///< emit
    std::string target, target_event;  ///< send
    std::string payload_json;
};

/// A send not yet delivered.
struct PendingSend {
    std::int64_t seq = 0;
    std::string target, event, payload_json;
};

/// An action started by a transition (ctx.start_action) whose outcome has not yet been
/// delivered to its instance.
struct OpenAction {
    std::int64_t seq = 0;
    std::string instance, name, args_json;
    double deadline_ms = 0;  ///< then it times out
};

class Store {
public:
    virtual ~Store() = default;

    /// True when instance data lives in the store (and must be written to it);
    /// false when it lives only in the Lua VM (the in-memory store).
    virtual bool durable() const noexcept = 0;

    /// Runs `work` atomically: SQLite runs it in one BEGIN IMMEDIATE transaction,
    /// committed when it returns and rolled back when it throws.
    virtual void atomically(const std::function<void()>& work) = 0;

    /// The model that state ids refer to; on a reload, also the previous one.
    /// Instances whose state is missing from `model` are listed in `orphaned`.
    virtual void use_model(const Model* previous, const Model& model, std::vector<std::string>* orphaned) = 0;

    /// Finds an instance; `data_json`, when given, receives its data (durable stores).
    virtual bool find(std::string_view id, InstanceRow& row, std::string* data_json) = 0;
    /// A durable store's data of instance `id` (empty when there is none).
    virtual std::string data_json(std::string_view id) = 0;
    /// Inserts or updates an instance; `data` is written when non-null (durable stores).
    virtual void save(std::string_view id, const InstanceRow& row, const Value* data, bool created) = 0;

    /// Deletes an instance and its idempotency keys (its audit rows stay); false when
    /// there is none. `handle` receives the in-memory store's data handle.
    virtual bool erase(std::string_view id, int& handle) = 0;

    virtual std::optional<KeyedOutcome> find_key(std::string_view id, std::string_view key) = 0;
    /// `time_ms`: when the key was first sent ([retention] keys_ms counts from it).
    virtual void save_key(const KeyedOutcome& outcome, double time_ms) = 0;

    /// Appends to the outbox (in the current transaction); returns the entry's seq.
    virtual std::int64_t append_outbox(const OutboxEntry& entry) = 0;
    /// Emitted messages not yet acknowledged, oldest first.
    virtual std::vector<OutboxMessage> outbox(const OutboxOptions& options) = 0;
    /// Acknowledges emitted messages; returns how many were unacknowledged.
    virtual std::size_t ack(const std::vector<std::int64_t>& seqs) = 0;
    /// Sends not yet delivered, oldest first.
    virtual std::vector<PendingSend> pending_sends(std::size_t limit) = 0;
    /// Marks a send delivered (`error` empty) or undeliverable (why).
    virtual void mark_sent(std::int64_t seq, std::string_view error) = 0;

    /// Records an action a transition starts (in the current transaction); nullopt when
    /// one of that name is already open for the instance (it is not started twice).
    virtual std::optional<std::int64_t> start_action(const OpenAction& action, double now_ms) = 0;
    /// Closes an open action with how it ended; false when it was closed already (its
    /// timeout and its result race: the first one wins).
    virtual bool close_action(std::int64_t seq, std::string_view outcome) = 0;
    /// Open actions: every one, oldest first (`due_at` < 0), or those whose deadline is
    /// at or before `due_at`, earliest first.
    virtual std::vector<OpenAction> open_actions(double due_at) = 0;
    /// An open action runs again from `now`: its new deadline.
    virtual void renew_action(std::int64_t seq, double deadline_ms) = 0;
    /// The earliest deadline of an open action; nullopt when none.
    virtual std::optional<double> next_action_deadline() = 0;

    /// Removes what `retention` no longer keeps at `now_ms`, and acknowledged outbox
    /// entries and closed actions; removed instances go to `removed` (id, and the in-memory store's handle).
    virtual PruneReport prune(const Retention& retention, double now_ms,
                              std::vector<std::pair<std::string, int>>& removed) = 0;

    virtual void append_audit(AuditEntry entry) = 0;
    virtual std::vector<AuditEntry> audit(std::string_view id, std::size_t limit) = 0;

    /// Every instance, in id order, with `visit(id, row, data_json)`; data_json is
    /// empty for the in-memory store.
    virtual void each(const std::function<void(const std::string&, const InstanceRow&, const std::string&)>& visit) = 0;
    /// Ids of non-completed instances with a timer due at `now_ms`, earliest first.
    virtual std::vector<std::string> due(double now_ms) = 0;
    /// Counts instances by state (named by `name`, for stores that keep state ids) and
    /// the timers due at `now_ms`, without reading data.
    virtual MachineCensus census(double now_ms, const std::function<std::string(const InstanceRow&)>& name) = 0;
    /// The earliest due time of a non-completed instance's timer; nullopt when none.
    virtual std::optional<double> next_due() = 0;
    /// Ids of non-completed instances that entered their state before `before_ms`.
    virtual std::vector<std::string> idle(double before_ms) = 0;
};

std::unique_ptr<Store> open_memory_store(std::size_t audit_limit);
/// Throws std::runtime_error when the file does not exist and `create` is false.
std::unique_ptr<Store> open_sqlite_store(const std::filesystem::path& file, bool full_sync, bool create);

}  // namespace statenet::detail
