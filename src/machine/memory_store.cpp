// The in-memory store: instances, timers, idempotency keys and a bounded audit log in maps.
#include "machine/store.hpp"

#include <algorithm>
#include <deque>
#include <map>
#include <set>
#include <unordered_map>

namespace statenet::detail {

namespace {

const std::string* qualified_name(const Model& model, int sid) {
    for (const auto& net : model.networks)
        for (const auto& s : net.states)
            if (s.id == sid) return &s.qualified;
    return nullptr;
}

int state_id(const Model& model, std::string_view qualified) {
    for (const auto& net : model.networks)
        for (const auto& s : net.states)
            if (s.qualified == qualified) return s.id;
    return -1;
}

class MemoryStore final : public Store {
public:
    explicit MemoryStore(std::size_t audit_limit) : audit_limit_(audit_limit) {}

    bool durable() const noexcept override { return false; }

    // Callers serialize every call (Machines holds its lock), so there is nothing to
    // isolate; without durability there is nothing to roll back either: the work
    // itself only writes once it has succeeded.
    void atomically(const std::function<void()>& work) override { work(); }

    void use_model(const Model* previous, const Model& model, std::vector<std::string>* orphaned) override {
        if (!previous) return;
        for (auto& [id, row] : instances_) {
            if (row.previous >= 0) row.previous = state_id(model, *qualified_name(*previous, row.previous));
            std::string name = row.state >= 0 ? *qualified_name(*previous, row.state) : row.orphan_state;
            row.state = state_id(model, name);
            // A push stack the new workflow cannot return through orphans it too.
            if (!row.stack.empty() && !stack_problem(model, row.stack).empty()) row.state = -1;
            row.orphan_state = row.state >= 0 ? std::string() : name;
            if (row.state < 0 && orphaned) orphaned->push_back(id);
        }
        if (orphaned) std::sort(orphaned->begin(), orphaned->end());
    }

    bool find(std::string_view id, InstanceRow& row, std::string*) override {
        auto it = instances_.find(std::string(id));
        if (it == instances_.end()) return false;
        row = it->second;
        return true;
    }

    std::string data_json(std::string_view) override { return {}; }

    void save(std::string_view id, const InstanceRow& row, const Value*, bool) override {
        auto [it, created] = instances_.try_emplace(std::string(id), row);
        if (!created) {
            if (it->second.due_ms >= 0) timers_.erase({it->second.due_ms, it->first});
            it->second = row;
        }
        if (row.due_ms >= 0 && !row.completed) timers_.insert({row.due_ms, it->first});
    }

    bool erase(std::string_view id, int& handle) override {
        auto it = instances_.find(std::string(id));
        if (it == instances_.end()) return false;
        if (it->second.due_ms >= 0) timers_.erase({it->second.due_ms, it->first});
        handle = it->second.handle;
        instances_.erase(it);
        const std::string prefix = key_of(id, {});
        std::erase_if(keys_, [&](const auto& k) { return k.first.starts_with(prefix); });
        return true;
    }

    std::optional<KeyedOutcome> find_key(std::string_view id, std::string_view key) override {
        auto it = keys_.find(key_of(id, key));
        if (it == keys_.end()) return std::nullopt;
        return it->second.outcome;
    }

    void save_key(const KeyedOutcome& outcome, double time_ms) override {
        keys_.emplace(key_of(outcome.instance, outcome.key), TimedOutcome{outcome, time_ms});
    }

    std::int64_t append_outbox(const OutboxEntry& entry) override {
        outbox_.push_back({++outbox_seq_, entry, false, {}});
        return outbox_seq_;
    }

    std::vector<OutboxMessage> outbox(const OutboxOptions& options) override {
        std::vector<OutboxMessage> out;
        for (const auto& row : outbox_) {
            if (options.limit > 0 && out.size() >= options.limit) break;
            const OutboxEntry& e = row.entry;
            if (row.done || e.topic.empty() || row.seq <= options.after_seq) continue;
            if (options.topic && e.topic != *options.topic) continue;
            out.push_back({row.seq, e.instance, e.topic, Value::from_json(e.payload_json), e.event, e.time_ms});
        }
        return out;
    }

    std::size_t ack(const std::vector<std::int64_t>& seqs) override {
        std::size_t acked = 0;
        for (auto& row : outbox_)
            if (!row.done && !row.entry.topic.empty() && std::find(seqs.begin(), seqs.end(), row.seq) != seqs.end()) {
                row.done = true;
                ++acked;
            }
        return acked;
    }

    std::vector<PendingSend> pending_sends(std::size_t limit) override {
        std::vector<PendingSend> out;
        for (const auto& row : outbox_) {
            if (out.size() >= limit) break;
            if (!row.done && !row.entry.target.empty())
                out.push_back({row.seq, row.entry.target, row.entry.target_event, row.entry.payload_json});
        }
        return out;
    }

    void mark_sent(std::int64_t seq, std::string_view error) override {
        for (auto& row : outbox_)
            if (row.seq == seq) {
                row.done = true;
                row.error = error;
            }
    }

    std::optional<std::int64_t> start_action(const OpenAction& action, double) override {
        for (const auto& [seq, open] : actions_)
            if (open.instance == action.instance && open.name == action.name) return std::nullopt;
        const std::int64_t seq = ++action_seq_;
        actions_.emplace(seq, action).first->second.seq = seq;
        return seq;
    }

    // Closed actions are kept by no one: nothing asks for them later.
    bool close_action(std::int64_t seq, std::string_view) override { return actions_.erase(seq) > 0; }

    std::vector<OpenAction> open_actions(double due_at) override {
        std::vector<OpenAction> out;
        for (const auto& [seq, open] : actions_)
            if (due_at < 0 || open.deadline_ms <= due_at) out.push_back(open);
        if (due_at >= 0)
            std::stable_sort(out.begin(), out.end(),
                             [](const OpenAction& a, const OpenAction& b) { return a.deadline_ms < b.deadline_ms; });
        return out;
    }

    void renew_action(std::int64_t seq, double deadline_ms) override {
        if (auto it = actions_.find(seq); it != actions_.end()) it->second.deadline_ms = deadline_ms;
    }

    std::optional<double> next_action_deadline() override {
        std::optional<double> next;
        for (const auto& [seq, open] : actions_)
            if (!next || open.deadline_ms < *next) next = open.deadline_ms;
        return next;
    }

    PruneReport prune(const Retention& retention, double now_ms,
                      std::vector<std::pair<std::string, int>>& removed) override {
        PruneReport report;
        if (retention.keys_ms >= 0)
            report.keys =
                std::erase_if(keys_, [&](const auto& k) { return k.second.time_ms < now_ms - retention.keys_ms; });
        if (retention.audit_ms >= 0)
            report.audit =
                std::erase_if(audit_, [&](const AuditEntry& a) { return a.time_ms < now_ms - retention.audit_ms; });
        if (retention.completed_ms >= 0)
            for (auto it = instances_.begin(); it != instances_.end();) {
                if (it->second.completed && it->second.since_ms < now_ms - retention.completed_ms) {
                    removed.emplace_back(it->first, it->second.handle);
                    it = instances_.erase(it);
                    ++report.instances;
                } else {
                    ++it;
                }
            }
        report.outbox = std::erase_if(outbox_, [](const OutboxRow& row) { return row.done; });
        return report;
    }

    void append_audit(AuditEntry entry) override {
        if (audit_limit_ == 0) return;
        if (audit_.size() >= audit_limit_) audit_.pop_front();
        audit_.push_back(std::move(entry));
        audit_.back().seq = ++seq_;
    }

    std::vector<AuditEntry> audit(std::string_view id, std::size_t limit) override {
        std::vector<AuditEntry> rows;
        for (const auto& entry : audit_)
            if (id.empty() || entry.instance == id) rows.push_back(entry);
        if (limit > 0 && rows.size() > limit) rows.erase(rows.begin(), rows.end() - static_cast<std::ptrdiff_t>(limit));
        return rows;
    }

    void each(const std::function<void(const std::string&, const InstanceRow&, const std::string&)>& visit) override {
        std::vector<const std::pair<const std::string, InstanceRow>*> sorted;
        sorted.reserve(instances_.size());
        for (const auto& entry : instances_) sorted.push_back(&entry);
        std::sort(sorted.begin(), sorted.end(), [](auto* a, auto* b) { return a->first < b->first; });
        static const std::string no_data;
        for (auto* entry : sorted) visit(entry->first, entry->second, no_data);
    }

    std::vector<std::string> due(double now_ms) override {
        std::vector<std::string> ids;
        for (const auto& [at, id] : timers_) {
            if (at > now_ms) break;
            ids.push_back(id);
        }
        return ids;
    }

    MachineCensus census(double now_ms, const std::function<std::string(const InstanceRow&)>& name) override {
        MachineCensus out;
        for (const auto& [id, row] : instances_) {
            ++out.by_state[name(row)];
            if (!row.completed && row.due_ms >= 0 && row.due_ms <= now_ms) ++out.timers_due;
        }
        return out;
    }

    std::optional<double> next_due() override {
        if (timers_.empty()) return std::nullopt;
        return timers_.begin()->first;
    }

    std::vector<std::string> idle(double before_ms) override {
        std::vector<std::string> ids;
        for (const auto& [id, row] : instances_)
            if (!row.completed && row.since_ms < before_ms) ids.push_back(id);
        std::sort(ids.begin(), ids.end());
        return ids;
    }

private:
    static std::string key_of(std::string_view id, std::string_view key) {
        std::string k;
        k.reserve(id.size() + key.size() + 1);
        k.append(id).push_back('\x1f');
        k.append(key);
        return k;
    }

    std::unordered_map<std::string, InstanceRow> instances_;
    std::set<std::pair<double, std::string>> timers_;
    struct TimedOutcome {
        KeyedOutcome outcome;
        double time_ms;
    };
    struct OutboxRow {
        std::int64_t seq;
        OutboxEntry entry;
        bool done;  // emit: acknowledged; send: delivered or undeliverable
        std::string error;
    };
    std::unordered_map<std::string, TimedOutcome> keys_;
    std::deque<OutboxRow> outbox_;
    std::int64_t outbox_seq_ = 0;
    std::map<std::int64_t, OpenAction> actions_;  // open ones, by seq
    std::int64_t action_seq_ = 0;
    std::deque<AuditEntry> audit_;
    std::size_t audit_limit_;
    std::int64_t seq_ = 0;
};

}  // namespace

std::unique_ptr<Store> open_memory_store(std::size_t audit_limit) { return std::make_unique<MemoryStore>(audit_limit); }

}  // namespace statenet::detail
