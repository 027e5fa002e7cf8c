// statenet::Supervisor: machine instances that derive, reconcile and supervise child
// instances of other workflows (docs/supervision.md).
#pragma once

#include <statenet/engine.hpp>
#include <statenet/export.hpp>
#include <statenet/machines.hpp>
#include <statenet/value.hpp>

#include <cstddef>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace statenet {

namespace detail {
class SupervisorImpl;
}

/// What one supervisor tick did, over the whole tree.
struct SuperviseReport {
    std::size_t started = 0;    ///< new children
    std::size_t updated = 0;    ///< spec_changed delivered
    std::size_t stopping = 0;   ///< removed specs: `stop` sent
    std::size_t removed = 0;    ///< children deleted at an end state
    std::size_t forced = 0;     ///< children deleted after removal_timeout_ms
    std::size_t mapped = 0;     ///< state-mapping events applied
    std::size_t restarted = 0;  ///< children that completed while desired, started again
    std::size_t escalated = 0;  ///< child_failed events sent to parents
    std::size_t held = 0;       ///< supervising instances whose breaker is open
    std::size_t timers = 0;     ///< child timers fired
    /// "instance: message" for each children function, template or health error.
    std::vector<std::string> errors;
};

/// One node of the supervision tree.
struct TreeNode {
    std::string id;        ///< the instance's id (a child's is "<parent id>/<name>")
    std::string name;      ///< the child spec's name (the root: its id)
    std::string workflow;  ///< the child spec's workflow (the root: its file)
    std::string state;     ///< `network/state`, "" when the instance is gone
    bool completed = false;
    /// A child: starting, running, updating, stopping or failed. The root: "root".
    std::string status;
    /// A supervising instance's breaker: closed, open or half_open ("" when it has no health check).
    std::string breaker;
    std::string note;  ///< the last refusal, error or why the breaker opened
    Value spec;        ///< the applied spec, templates rendered (a child's)
    std::vector<TreeNode> children;
    std::vector<PushFrame> stack{};  ///< the sub-networks it is inside (push arcs), outermost first

    Value to_value() const;
};

/// A workflow's instances (the root machines) and the child instances they derive
/// through their states' `children` functions, reconciled on every tick(). The tree
/// (parent id, child name, applied spec, status) is kept in the store and survives
/// restarts. Every call is thread-safe; ticks are serialized.
class STATENET_API Supervisor {
public:
    /// Opens the root workflow's machines and one set per `[machines]` child workflow
    /// (with a store, each in `<store stem>.<name><ext>` next to it). Throws LoadError
    /// or std::runtime_error.
    Supervisor(Engine& engine, const std::filesystem::path& workflow, MachinesOptions options = {});
    ~Supervisor();
    Supervisor(const Supervisor&) = delete;
    Supervisor& operator=(const Supervisor&) = delete;

    /// Whether `workflow` derives children (`children` in a state) or declares child
    /// workflows or a health check: its instances need a Supervisor. Throws LoadError.
    static bool supervises(Engine& engine, const std::filesystem::path& workflow, const LoadOptions& load = {});

    /// The root workflow's instances: start and send to them as usual.
    Machines& machines();
    /// The instances of child workflow `path` ("connection", or "flows.sink" two levels
    /// down); nullptr when no such child workflow is declared.
    Machines* machines(std::string_view path);
    /// The child workflows' paths, parents before their children.
    std::vector<std::string> kinds() const;

    /// One supervisor tick at `now_ms` (the clock's time when omitted): health and
    /// breakers, derive, reconcile, state mapping, restarts, then child timers, down
    /// the whole tree.
    SuperviseReport tick();
    SuperviseReport tick(double now_ms);

    /// The tree under root instance (or child instance) `id`; nullopt when unknown.
    std::optional<TreeNode> tree(std::string_view id);

private:
    std::unique_ptr<detail::SupervisorImpl> impl_;
};

}  // namespace statenet
