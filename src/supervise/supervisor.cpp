// Supervisor: the machine sets of a supervision tree and its tick — health and breaker,
// derive, reconcile, state mapping down every level, then the child timers.
#include "supervise/supervisor_impl.hpp"

#include "api/workflow_impl.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>

namespace statenet::detail {

std::string_view bare_state(std::string_view qualified) {
    const auto slash = qualified.find('/');
    return slash == std::string_view::npos ? qualified : qualified.substr(slash + 1);
}

Value start_data(const Value& entry) {
    const Value* spec = entry.find("spec");
    return spec && spec->is_object() ? *spec : Value::object();
}

SupervisorImpl::SupervisorImpl(Engine& engine, const std::filesystem::path& workflow, MachinesOptions options)
    : engine_(engine), options_(std::move(options)) {
    // Every workflow of the tree runs on one clock (a ManualClock moves them together).
    clock_ = options_.clock           ? options_.clock
             : options_.store.empty() ? std::shared_ptr<Clock>(std::make_shared<ManualClock>(0))
                                      : wall_clock();
    options_.clock = clock_;
    Workflow root = engine.load(workflow, options_.load);
    add_kind(-1, "", workflow.string(), root.impl().model()->vars);
    tree_ = std::make_unique<TreeStore>(options_.store);
}

SupervisorImpl::~SupervisorImpl() {
    for (std::size_t k = 0; k < kinds_.size() && k < listeners_.size(); ++k)
        kinds_[k].machines->unsubscribe(listeners_[k]);
}

void SupervisorImpl::add_kind(int parent, const std::string& path, const std::string& file, const Value& global) {
    if (kinds_.size() > 64)
        throw std::runtime_error(
            fmt::format("child workflow '{}': more than 64 child workflows in one tree (a "
                        "[machines] declaration that includes itself?)",
                        path));
    MachinesOptions options = options_;
    if (!options_.store.empty() && !path.empty()) {
        const std::filesystem::path& store = options_.store;
        options.store = store.parent_path() / (store.stem().string() + "." + path + store.extension().string());
        options.create_store = true;  // the root's store exists: its children's appear with them
    }
    Kind kind;
    kind.path = path;
    kind.file = file;
    kind.parent = parent;
    Workflow loaded = engine_.load(file, options_.load);
    kind.model_ptr = loaded.impl().model();
    kind.machines = std::make_unique<Machines>(engine_, file, options);
    if (kind.model().supervises()) kind.vm = std::make_unique<SuperviseVm>(loaded, global);
    for (const auto& net : kind.model().networks)
        for (const auto& s : net.states)
            if (s.children) kind.deriving.push_back(s.qualified);
    const int index = static_cast<int>(kinds_.size());
    std::vector<ChildWorkflow> declared = kind.model().machines;
    kinds_.push_back(std::move(kind));
    // A child that completes may have to be restarted: the listener notes it.
    listeners_.push_back(kinds_[index].machines->subscribe([this, index](const SendResult& r, const auto&) {
        if (r.status != SendStatus::applied || !r.completed) return;
        std::lock_guard lock(completed_mutex_);
        completed_.insert({index, r.instance});
    }));
    for (const ChildWorkflow& decl : declared) {
        const std::string child = path.empty() ? decl.name : path + "." + decl.name;
        kinds_[index].declared[decl.name] = static_cast<int>(kinds_.size());
        add_kind(index, child, decl.path, global);
    }
}

int SupervisorImpl::resolve(int k, const std::string& workflow) const {
    const Kind& kind = kinds_[static_cast<std::size_t>(k)];
    if (auto it = kind.declared.find(workflow); it != kind.declared.end()) return it->second;
    std::filesystem::path file(workflow);
    if (!file.is_absolute()) file = std::filesystem::path(kind.model().dir) / file;
    const std::string wanted = file.lexically_normal().string();
    for (const auto& [name, index] : kind.declared)
        if (kinds_[static_cast<std::size_t>(index)].file == wanted) return index;
    std::string names;
    for (const auto& [name, index] : kind.declared) names += (names.empty() ? "" : ", ") + name;
    throw SupervisionError(fmt::format("workflow '{}' is not declared in [machines] of {} (declared: {})", workflow,
                                       kind.file, names.empty() ? "none" : names));
}

int SupervisorImpl::kind_index(std::string_view path) const {
    for (std::size_t k = 0; k < kinds_.size(); ++k)
        if (kinds_[k].path == path) return static_cast<int>(k);
    throw SupervisionError(fmt::format("no child workflow '{}' in this tree", path));
}

Machines* SupervisorImpl::machines(std::string_view path) {
    for (auto& kind : kinds_)
        if (kind.path == path) return kind.machines.get();
    return nullptr;
}

std::vector<std::string> SupervisorImpl::kinds() const {
    std::vector<std::string> out;
    for (std::size_t k = 1; k < kinds_.size(); ++k) out.push_back(kinds_[k].path);
    return out;
}

bool SupervisorImpl::took_completed(int kind, const std::string& id) {
    std::lock_guard lock(completed_mutex_);
    if (completed_.empty()) return false;
    return completed_.erase({kind, id}) > 0;
}

bool SupervisorImpl::held(int kind, std::string_view id) const {
    // Held when some supervisor above it has its breaker open.
    const ChildRow* row =
        kind > 0 ? tree_->by_child(kinds_[static_cast<std::size_t>(kind)].path, std::string(id)) : nullptr;
    while (row) {
        if (held_.contains(row->parent)) return true;
        kind = kinds_[static_cast<std::size_t>(kind)].parent;
        row = kind > 0 ? tree_->by_child(kinds_[static_cast<std::size_t>(kind)].path, row->parent) : nullptr;
    }
    return false;
}

std::vector<InstanceInfo> SupervisorImpl::roots() {
    const Kind& root = kinds_[0];
    std::vector<InstanceInfo> out;
    if (root.vm && root.model().supervision.health) {
        ListOptions live;
        live.include_completed = false;
        live.data = false;
        out = root.machines->list(live);
    } else if (root.vm && !root.deriving.empty()) {
        ListOptions deriving;
        deriving.states = root.deriving;
        deriving.data = false;
        out = root.machines->list(deriving);
    }
    // Parents in the tree in any state (one that left its `children` state, completed
    // or was orphaned by a reload still has children to move on or let go).
    std::set<std::string> listed;
    for (const auto& info : out) listed.insert(info.id);
    const std::size_t before = out.size();
    for (std::size_t k = 1; k < kinds_.size(); ++k) {
        if (kinds_[k].parent != 0) continue;
        for (const std::string& parent : tree_->parents(kinds_[k].path))
            if (listed.insert(parent).second)
                if (auto info = root.machines->get_row(parent)) out.push_back(std::move(*info));
    }
    if (out.size() != before)
        std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.id < b.id; });
    return out;
}

const Value& SupervisorImpl::data(const Visit& v) {
    if (v.info.data.is_null()) {
        auto full = kinds_[static_cast<std::size_t>(v.kind)].machines->get(v.info.id);
        v.info.data = full ? std::move(full->data) : Value::object();
    }
    return v.info.data;
}

SuperviseReport SupervisorImpl::tick(double now) {
    std::lock_guard lock(mutex_);
    SuperviseReport report;
    const Value none = Value::object();
    for (InstanceInfo& info : roots()) supervise(Visit{0, info, none, 0, "", info.id, 0}, now, report);
    for (std::size_t k = 0; k < kinds_.size(); ++k) {
        const int kind = static_cast<int>(k);
        auto fired = held_.empty() ? kinds_[k].machines->tick(now)
                                   : kinds_[k].machines->tick(now, [&](std::string_view id) { return held(kind, id); });
        report.timers += fired.size();
    }
    return report;
}

Value SupervisorImpl::internal_vars(const Visit& v) const {
    return Value::object({{"id", v.info.id},
                          {"name", v.name},
                          {"parent", v.parent},
                          {"workflow", kinds_[static_cast<std::size_t>(v.kind)].path},
                          {"depth", v.depth}});
}

bool SupervisorImpl::healthy(const Visit& v, double now, SuperviseReport& report) {
    const Kind& kind = kinds_[static_cast<std::size_t>(v.kind)];
    const SupervisionConfig& config = kind.model().supervision;
    if (!config.health || v.info.completed) return true;
    HealthBreaker& breaker = tree_->breaker(v.info.id);
    const HealthBreaker before = breaker;
    if (!breaker.waiting(now)) {
        const std::string state(bare_state(v.info.state));
        const Value internal = internal_vars(v);
        breaker.record(kind.vm->health(*config.health, Supervised{v.info.id, state, data(v), v.passed, internal}), now,
                       config);
    }
    if (!(breaker == before)) tree_->save_breaker(v.info.id);  // a restart finds it as it is now
    if (breaker.open()) {
        held_.insert(v.info.id);
        ++report.held;
        return false;
    }
    held_.erase(v.info.id);
    return true;
}

void SupervisorImpl::forget_derived(int kind, const std::string& id) {
    Kind& k = kinds_[static_cast<std::size_t>(kind)];
    if (!k.vm) return;
    k.derived.erase(id);
    k.vm->forget(id);
}

void SupervisorImpl::derive(const Visit& v, const State& state, double now, SuperviseReport& report) {
    Kind& kind = kinds_[static_cast<std::size_t>(v.kind)];
    // A children function is a function of (data, ctx): nothing it reads moved, nothing
    // it returns changed (docs/supervision.md#children).
    const Derived mark{v.info.version, v.info.since_ms, v.passed_version};
    if (auto it = kind.derived.find(v.info.id); it != kind.derived.end() && it->second == mark) return;
    try {
        const std::string name(bare_state(v.info.state));
        const Value internal = internal_vars(v);
        std::vector<ChildOp> ops =
            kind.vm->derive(*state.children, Supervised{v.info.id, name, data(v), v.passed, internal});
        kind.derived[v.info.id] = mark;
        for (ChildOp& op : ops) apply(v, op, now, report);
    } catch (...) {
        forget_derived(v.kind, v.info.id);  // derived again from the tree next time
        throw;
    }
}

void SupervisorImpl::supervise(const Visit& v, double now, SuperviseReport& report) {
    const Kind& kind = kinds_[static_cast<std::size_t>(v.kind)];
    try {
        if (kind.vm && !healthy(v, now, report)) return;
        seed(v);
        const State* state = nullptr;
        if (!v.info.orphaned && !v.info.completed)
            for (const auto& net : kind.model().networks)
                for (const auto& s : net.states)
                    if (s.qualified == v.info.state) state = &s;
        if (v.info.completed) {
            // An instance that completed lets all its children go (two-phase, as removed).
            for (ChildRow* row : tree_->children(v.info.id))
                if (row->status != "stopping") begin_stop(*row, now, report);
        } else if (state && state->children && kind.vm) {
            derive(v, *state, now, report);
        }
    } catch (const std::exception& e) {
        report.errors.push_back(fmt::format("{}: {}", v.info.id, e.what()));
    }
    for (ChildRow* row : tree_->children(v.info.id)) {
        try {
            if (!progress(v, *row, now, report)) continue;
            if (row->status != "running") continue;
            map_state(v, *row, report);
            const int k = kind_index(row->kind);
            if (!kinds_[static_cast<std::size_t>(k)].vm && !tree_->has_children(row->id)) continue;
            auto info = kinds_[static_cast<std::size_t>(k)].machines->get_row(row->id);
            if (!info) continue;
            const Value* passed = row->entry.find("vars");
            const Value none = Value::object();
            supervise(Visit{k, *info, passed ? *passed : none, row->spec_version, v.info.id, row->name, v.depth + 1},
                      now, report);
        } catch (const std::exception& e) {
            report.errors.push_back(fmt::format("{}: child '{}': {}", v.info.id, row->name, e.what()));
        }
    }
}

}  // namespace statenet::detail

namespace statenet {

Supervisor::Supervisor(Engine& engine, const std::filesystem::path& workflow, MachinesOptions options)
    : impl_(std::make_unique<detail::SupervisorImpl>(engine, workflow, std::move(options))) {}
Supervisor::~Supervisor() = default;

bool Supervisor::supervises(Engine& engine, const std::filesystem::path& workflow, const LoadOptions& load) {
    return engine.load(workflow, load).impl().model()->supervises();
}

Machines& Supervisor::machines() { return impl_->root(); }
Machines* Supervisor::machines(std::string_view path) { return impl_->machines(path); }
std::vector<std::string> Supervisor::kinds() const { return impl_->kinds(); }
SuperviseReport Supervisor::tick() { return impl_->tick(impl_->now()); }
SuperviseReport Supervisor::tick(double now_ms) { return impl_->tick(now_ms); }
std::optional<TreeNode> Supervisor::tree(std::string_view id) { return impl_->tree(id); }

}  // namespace statenet
