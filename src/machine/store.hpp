// Store: where machine instances, idempotency keys and the audit log live (SQLite or memory).
#pragma once

#include "model/model.hpp"

#include <statenet/machines.hpp>

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace statenet::detail {

/// An instance's row, without its data.
struct InstanceRow {
    int state = -1;            ///< global state id in the loaded model; -1 = orphaned
    std::string orphan_state;  ///< `network/state` of an orphaned instance
    std::int64_t version = 0;
    bool completed = false;
    double since_ms = 0;  ///< when it entered its state
    double due_ms = -1;   ///< next timer check; < 0 = none
    int handle = -1;      ///< in-memory store: where its data lives in the VM
};

/// The first outcome of an idempotency key, replayed for duplicates.
using KeyedOutcome = SendResult;

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

    virtual std::optional<KeyedOutcome> find_key(std::string_view id, std::string_view key) = 0;
    virtual void save_key(const KeyedOutcome& outcome) = 0;

    virtual void append_audit(AuditEntry entry) = 0;
    virtual std::vector<AuditEntry> audit(std::string_view id, std::size_t limit) = 0;

    /// Every instance, in id order, with `visit(id, row, data_json)`; data_json is
    /// empty for the in-memory store.
    virtual void each(const std::function<void(const std::string&, const InstanceRow&, const std::string&)>& visit) = 0;
    /// Ids of non-completed instances with a timer due at `now_ms`, earliest first.
    virtual std::vector<std::string> due(double now_ms) = 0;
    /// The earliest due time of a non-completed instance's timer; nullopt when none.
    virtual std::optional<double> next_due() = 0;
    /// Ids of non-completed instances that entered their state before `before_ms`.
    virtual std::vector<std::string> idle(double before_ms) = 0;
};

std::unique_ptr<Store> open_memory_store(std::size_t audit_limit);
std::unique_ptr<Store> open_sqlite_store(const std::filesystem::path& file, bool full_sync);

}  // namespace statenet::detail
