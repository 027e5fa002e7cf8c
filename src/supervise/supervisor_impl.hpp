// SupervisorImpl: the state behind statenet::Supervisor — one machine set per workflow
// of the tree (its kinds), the durable tree, the breakers and the tick. Its parts:
// supervisor.cpp (kinds, the tick down the tree), reconcile.cpp (child specs applied:
// start, spec_changed, two-phase removal, restarts and child_failed), state_mapping.cpp
// (parent state -> the event that leads a child there), tree_view.cpp (tree()).
#pragma once

#include "supervise/breaker.hpp"
#include "supervise/supervise_vm.hpp"
#include "supervise/tree_store.hpp"

#include <statenet/supervisor.hpp>

#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace statenet::detail {

/// What a supervising instance's children were last derived from: its transitions
/// (version), when it entered its state, and the spec version of the vars its parent
/// passed down. The children function runs again only when one of them moved.
struct Derived {
    std::int64_t version = -1;
    double since_ms = 0;
    std::int64_t passed = 0;
    bool operator==(const Derived&) const = default;
};

/// One workflow of the tree: the root's, or a `[machines.NAME]` child workflow's.
struct Kind {
    std::string path;  ///< "" for the root, "connection", "flows.sink" two levels down
    std::string file;
    int parent = -1;  ///< the kind that declared it
    /// As loaded when the supervisor opened: its children functions, health check and
    /// [supervision] (state mapping reads the machines' current workflow instead).
    std::shared_ptr<const Model> model_ptr;
    std::unique_ptr<Machines> machines;
    std::unique_ptr<SuperviseVm> vm;                   ///< when its model supervises
    std::map<std::string, int> declared;               ///< its `[machines]` names -> kinds
    std::vector<std::string> deriving;                 ///< its states with a `children` function
    std::unordered_map<std::string, Derived> derived;  ///< instance id -> its last derive

    const Model& model() const { return *model_ptr; }
};

/// A supervising instance being visited by a tick.
struct Visit {
    int kind;
    InstanceInfo& info;           ///< read without its data: data() reads it when a function needs it
    const Value& passed;          ///< the vars its parent passed down
    std::int64_t passed_version;  ///< the spec version they came with (0 for a root instance)
    std::string parent;           ///< its parent's id ("" for a root instance)
    std::string name;             ///< its child name (its id for a root instance)
    int depth;
};

class SupervisorImpl {
public:
    SupervisorImpl(Engine& engine, const std::filesystem::path& workflow, MachinesOptions options);
    ~SupervisorImpl();

    Machines& root() { return *kinds_[0].machines; }
    Machines* machines(std::string_view path);
    std::vector<std::string> kinds() const;
    double now() { return clock_->now_ms(); }
    SuperviseReport tick(double now);
    std::optional<TreeNode> tree(std::string_view id);

private:
    Engine& engine_;
    MachinesOptions options_;
    std::shared_ptr<Clock> clock_;
    std::vector<Kind> kinds_;
    std::unique_ptr<TreeStore> tree_;
    std::unordered_set<std::string> held_;             // supervising instances whose breaker is open
    std::mutex mutex_;                                 // one tick at a time
    std::mutex completed_mutex_;                       // the listeners run on any caller's thread
    std::set<std::pair<int, std::string>> completed_;  // (kind, child id) that reached an end state
    std::vector<std::size_t> listeners_;

    // supervisor.cpp
    void add_kind(int parent, const std::string& path, const std::string& file, const Value& global);
    /// The root instances a tick has work for, without their data: those in a state
    /// with `children`, those with children in the tree, every live one under a health check.
    std::vector<InstanceInfo> roots();
    /// The instance's data, read on first use.
    const Value& data(const Visit& v);
    /// Runs the state's children function when what it derives from moved; applies the changes.
    void derive(const Visit& v, const State& state, double now, SuperviseReport& report);
    /// Drops what the supervisor remembers of an instance's children function (after a
    /// failure, or when the instance goes): the next visit derives afresh from the tree.
    void forget_derived(int kind, const std::string& id);
    /// The kind a child spec's `workflow` names from kind `k`: a [machines] name or its file.
    int resolve(int k, const std::string& workflow) const;
    int kind_index(std::string_view path) const;
    void supervise(const Visit& v, double now, SuperviseReport& report);
    /// Runs the health check; false when the breaker holds the instance back.
    bool healthy(const Visit& v, double now, SuperviseReport& report);
    bool held(int kind, std::string_view id) const;
    bool took_completed(int kind, const std::string& id);
    Value internal_vars(const Visit& v) const;

    // reconcile.cpp
    void seed(const Visit& v);
    void apply(const Visit& v, ChildOp& op, double now, SuperviseReport& report);
    void start_child(ChildRow& row, SuperviseReport& report);
    void begin_stop(ChildRow& row, double now, SuperviseReport& report);
    /// Moves a child on: a start or spec_changed not yet done, a removal, a restart.
    /// False when the row is gone.
    bool progress(const Visit& v, ChildRow& row, double now, SuperviseReport& report);
    void restart(const Visit& v, ChildRow& row, double now, SuperviseReport& report);
    void drop_child(ChildRow& row);

    // state_mapping.cpp
    void map_state(const Visit& v, ChildRow& row, SuperviseReport& report);
};

/// `entry.spec` as a child's start data (an object).
Value start_data(const Value& entry);
/// The state name part of `network/state`.
std::string_view bare_state(std::string_view qualified);

}  // namespace statenet::detail
