// SuperviseVm: one workflow's functions in a Lua VM of their own, running what a
// supervisor asks of its instances: the `children` functions (derived, rendered and
// diffed by statenet/supervise.lua) and the `[supervision] health` check.
#pragma once

#include "exec/program.hpp"

#include <statenet/value.hpp>
#include <statenet/workflow.hpp>

#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace statenet::detail {

/// What a children function, a template or a child spec got wrong; the message names
/// the instance, the child and the template where it can.
class SupervisionError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

/// A change between an instance's desired children and what was last applied.
struct ChildOp {
    enum class Kind { add, update, remove };
    Kind kind = Kind::add;
    std::string name;
    /// add, update: `{name, workflow, spec, state_map, vars}`, its templates rendered.
    Value entry;
};

/// The instance a children or health function runs for.
struct Supervised {
    const std::string& id;
    const std::string& state;  ///< its state's name
    const Value& data;
    const Value& passed;    ///< what its parent passed down (the spec's `vars`), or {}
    const Value& internal;  ///< ids and names, never stored
};

/// Not thread-safe: the supervisor calls it under its own lock.
class SuperviseVm {
public:
    /// Loads the workflow's functions; `global` is ctx.vars.global. Throws LoadError.
    SuperviseVm(const Workflow& workflow, const Value& global);

    /// Whether the diff cache of instance `id` is filled.
    bool seeded(const std::string& id);
    /// Fills it with the entries applied so far (by child name).
    void seed(const std::string& id, const Value& entries);
    void forget(const std::string& id);

    /// Runs children function `fn` for `who`; the changes since the last call. Throws
    /// SupervisionError (a Lua error names its file and line).
    std::vector<ChildOp> derive(FnId fn, const Supervised& who);
    /// Runs health function `fn`: empty when healthy, else why not.
    std::string health(FnId fn, const Supervised& who);
    /// Renders one template strictly (for tests and the benchmark).
    Value render(const std::string& text, const Value& user, const Value& internal);

private:
    Workflow workflow_;
    std::unique_ptr<Program> program_;
    int derive_ = LUA_NOREF, health_ = LUA_NOREF, seeded_ = LUA_NOREF, seed_ = LUA_NOREF, forget_ = LUA_NOREF,
        render_ = LUA_NOREF;

    void push(const Value& value);
    /// Pushes `fn`'s arguments after the function at the top: id, fn, data, passed, state, internal.
    void push_args(FnId fn, const Supervised& who);
    /// pcall with `nargs`/`nresults`; a failure becomes a SupervisionError.
    void call(int nargs, int nresults);
};

}  // namespace statenet::detail
