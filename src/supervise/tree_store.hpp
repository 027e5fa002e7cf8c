// TreeStore: the durable supervision tree — one row per child (its parent's id and its
// name) and one per supervising instance's breaker, kept in the root store's SQLite
// file (tables statenet_children, statenet_breakers) or in memory.
#pragma once

#include "supervise/breaker.hpp"

#include <statenet/value.hpp>

#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

namespace SQLite {
class Database;
}

namespace statenet::detail {

/// A child as the supervisor last left it.
struct ChildRow {
    std::string parent;  ///< the supervising instance's id
    std::string name;    ///< the child spec's name
    std::string kind;    ///< which child workflow (supervisor_impl.hpp's Kind::path)
    std::string id;      ///< the child instance's id in that workflow's store
    Value entry;         ///< the applied spec: {name, workflow, spec, state_map, vars}
    /// starting, running, updating (spec_changed not yet delivered), stopping (removed:
    /// `stop` sent, waiting for an end state), failed (restarted too often).
    std::string status = "starting";
    std::int64_t spec_version = 1;
    std::string mapped;            ///< the parent state whose state mapping was applied
    std::string note;              ///< the last refusal or error, for the tree view
    double since_ms = 0;           ///< stopping: when `stop` was sent
    std::vector<double> restarts;  ///< times of its recent restarts
};

class TreeStore {
public:
    /// `db` empty: in memory. Otherwise the table is created when missing (older
    /// stores get it on their first open) and every row loaded.
    explicit TreeStore(const std::filesystem::path& db);
    ~TreeStore();
    TreeStore(const TreeStore&) = delete;
    TreeStore& operator=(const TreeStore&) = delete;

    /// The children of `parent`, by name.
    std::vector<ChildRow*> children(const std::string& parent);
    ChildRow* find(const std::string& parent, const std::string& name);
    /// The row whose child instance is `id` in workflow `kind`.
    ChildRow* by_child(const std::string& kind, const std::string& id);
    bool empty() const { return rows_.empty(); }
    /// Whether `parent` has children (no copies: asked for every child on every tick).
    bool has_children(const std::string& parent) const {
        auto it = counts_.find(parent);
        return it != counts_.end() && it->second > 0;
    }
    /// The parents of the children in workflow `kind`, in id order.
    std::vector<std::string> parents(const std::string& kind) const;
    /// Inserts or replaces the row (one atomic write to the store).
    void save(const ChildRow& row);
    void erase(const std::string& parent, const std::string& name);

    /// The breaker of supervising instance `id` (closed when it has none yet); a
    /// restart finds it as it was left (open stays open until its back-off is over).
    HealthBreaker& breaker(const std::string& id) { return breakers_[id]; }
    /// Its breaker if it has had a health check, else null.
    const HealthBreaker* find_breaker(const std::string& id) const {
        auto it = breakers_.find(id);
        return it == breakers_.end() ? nullptr : &it->second;
    }
    /// Writes breaker(id) through to the store.
    void save_breaker(const std::string& id);
    void erase_breaker(const std::string& id);

private:
    std::unique_ptr<SQLite::Database> db_;
    std::map<std::pair<std::string, std::string>, ChildRow> rows_;
    std::unordered_map<std::string, std::pair<std::string, std::string>> by_child_;  // kind + '\n' + id
    std::unordered_map<std::string, std::size_t> counts_;                            // parent -> its rows
    std::map<std::pair<std::string, std::string>, std::size_t> kind_parents_;        // (kind, parent) -> its rows
    std::unordered_map<std::string, HealthBreaker> breakers_;  // supervising instance -> its breaker

    void count(const ChildRow& row, int delta);

    void load();
    void load_breakers();
};

}  // namespace statenet::detail
