// Transactions: single, batch and manual record transactions over pooled connections.
#include "exec/transactions.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <stdexcept>

namespace statenet::detail {

namespace {
constexpr const char* record_savepoint = "statenet_record";
constexpr const char* step_savepoint = "statenet_step";
}  // namespace

Transactions::Transactions(const Model& model, std::shared_ptr<ResourcePools> pools,
                           std::function<void(const std::string&)> warn)
    : strategy_(model.transaction.strategy),
      batch_size_(model.transaction.batch_size),
      pools_(std::move(pools)),
      warn_(std::move(warn)),
      held_(model.resources.size()),
      changes_at_commit_(model.resources.size(), 0) {}

Transactions::~Transactions() {
    std::vector<int> released;
    if (auto error = flush(released); error && warn_) warn_("batch transaction lost at shutdown: " + *error);
}

void Transactions::begin_locked(int id, SqliteConnection& connection) {
    // Announce the wait so that a runner holding a batch open hands the lock over at
    // its next record boundary instead of keeping it for the whole batch.
    auto& waiting = pools_->waiting(id);
    ++waiting;
    try {
        connection.begin();
    } catch (...) {
        --waiting;
        throw;
    }
    --waiting;
    changes_at_commit_[static_cast<std::size_t>(id)] = connection.total_changes();
}

SqliteConnection& Transactions::acquire(int id, bool& fresh) {
    auto& slot = held_[static_cast<std::size_t>(id)];
    fresh = !slot;
    if (slot) return *slot;
    auto connection = pools_->acquire(id);
    try {
        begin_locked(id, *connection);
        if (strategy_ == Strategy::batch) connection->savepoint(record_savepoint);
        if (step_open_) connection->savepoint(step_savepoint);
    } catch (...) {
        pools_->release(id, std::move(connection));  // rolls back what was begun
        throw;
    }
    slot = std::move(connection);
    held_ids_.push_back(id);
    return *slot;
}

void Transactions::enlist(StagedWork& work) { staged_.push_back(Enlisted{&work, work.mark(), work.mark()}); }

void Transactions::begin_record() {
    if (strategy_ != Strategy::batch) return;
    for (auto& e : staged_) e.record_mark = e.work->mark();
    for (int id : held_ids_) held_[static_cast<std::size_t>(id)]->savepoint(record_savepoint);
}

void Transactions::begin_step() {
    for (int id : held_ids_) held_[static_cast<std::size_t>(id)]->savepoint(step_savepoint);
    for (auto& e : staged_) e.step_mark = e.work->mark();
    step_open_ = true;
}

void Transactions::end_step(bool failed) noexcept {
    step_open_ = false;
    if (failed)
        for (auto& e : staged_) e.work->rollback_to(e.step_mark);
    for (int id : held_ids_) {
        auto& connection = held_[static_cast<std::size_t>(id)];
        try {
            if (failed) connection->rollback_to(step_savepoint);
            else connection->release(step_savepoint);
        } catch (const std::exception&) {
            // The savepoint is gone only when the transaction ended under it; the
            // record's own end settles the connection.
        }
    }
}

void Transactions::warn_uncommitted() {
    for (int id : held_ids_) {
        auto& connection = *held_[static_cast<std::size_t>(id)];
        const auto pending = connection.total_changes() - changes_at_commit_[static_cast<std::size_t>(id)];
        if (pending > 0 && warn_)
            warn_(
                fmt::format("{} uncommitted change(s) on resource '{}' rolled back at the record's end "
                            "(transaction strategy 'manual': call ctx.commit())",
                            pending, connection.config().name));
    }
    for (const auto& e : staged_)
        if (e.work->pending() > 0 && warn_)
            warn_(
                fmt::format("{} uncommitted file operation(s) on resource '{}' rolled back at the record's end "
                            "(transaction strategy 'manual': call ctx.commit())",
                            e.work->pending(), e.work->name()));
}

void Transactions::discard_uncommitted() {
    warn_uncommitted();
    rollback_now();
}

bool Transactions::someone_waits() noexcept {
    for (int id : held_ids_)
        if (pools_->waiting(id).load(std::memory_order_relaxed) > 0) return true;
    return false;
}

std::optional<std::string> Transactions::end_record(bool ok, std::vector<int>& released) {
    switch (strategy_) {
    case Strategy::single: return finish_all(ok, released);
    case Strategy::manual: warn_uncommitted(); return finish_all(false, released);
    case Strategy::batch: break;
    }
    std::optional<std::string> failure;
    if (!ok)
        for (auto& e : staged_) e.work->rollback_to(e.record_mark);
    for (int id : held_ids_) {
        auto& connection = *held_[static_cast<std::size_t>(id)];
        try {
            if (ok && !failure) connection.release(record_savepoint);
            else connection.rollback_to(record_savepoint);
        } catch (const std::exception& e) {
            if (!failure) failure = e.what();
        }
    }
    if (failure) {
        // The batch's state is unknown: drop it rather than commit half a record.
        finish_all(false, released);
        batch_records_ = 0;
        return failure;
    }
    if (++batch_records_ >= batch_size_ || someone_waits()) return flush(released);
    return std::nullopt;
}

std::optional<std::string> Transactions::flush(std::vector<int>& released) {
    batch_records_ = 0;
    const bool staged =
        std::any_of(staged_.begin(), staged_.end(), [](const Enlisted& e) { return e.work->pending() > 0; });
    if (held_ids_.empty() && !staged) return std::nullopt;
    return finish_all(true, released);
}

std::optional<std::string> Transactions::finish_all(bool commit, std::vector<int>& released) noexcept {
    std::optional<std::string> failure;
    for (int id : held_ids_) {
        auto& connection = held_[static_cast<std::size_t>(id)];
        try {
            if (commit && !failure) connection->commit();
            else if (connection->in_transaction()) connection->rollback();
        } catch (const std::exception& e) {
            if (!failure) failure = e.what();
        }
        pools_->release(id, std::move(connection));  // rolls back what is left open
        released.push_back(id);
    }
    held_ids_.clear();
    step_open_ = false;
    finish_staged(commit, failure);
    return failure;
}

void Transactions::finish_staged(bool commit, std::optional<std::string>& failure) noexcept {
    for (auto& e : staged_) {
        try {
            if (commit && !failure) e.work->commit();
            else e.work->discard();
        } catch (const std::exception& error) {
            e.work->discard();
            failure = error.what();
        }
        e.record_mark = e.step_mark = 0;
    }
}

void Transactions::commit_now() {
    if (strategy_ != Strategy::manual) throw std::logic_error("ctx.commit() needs [transaction] strategy = \"manual\"");
    for (int id : held_ids_) {
        auto& connection = *held_[static_cast<std::size_t>(id)];
        connection.commit();  // also ends the step's savepoint
        begin_locked(id, connection);
        if (step_open_) connection.savepoint(step_savepoint);
    }
    std::optional<std::string> failure;
    finish_staged(true, failure);
    if (failure) throw std::runtime_error(*failure);
}

void Transactions::rollback_now() {
    if (strategy_ != Strategy::manual)
        throw std::logic_error("ctx.rollback() needs [transaction] strategy = \"manual\"");
    for (int id : held_ids_) {
        auto& connection = *held_[static_cast<std::size_t>(id)];
        connection.rollback();
        begin_locked(id, connection);
        if (step_open_) connection.savepoint(step_savepoint);
    }
    std::optional<std::string> failure;
    finish_staged(false, failure);
}

}  // namespace statenet::detail
