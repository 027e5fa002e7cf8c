// ResourceBinder: binds a VM's declared resources into its ctx.resources for the work it
// runs — a record (Runner) or a machine event (MachineVm): pooled connections held in
// the work's Transactions, vector stores and files roots opened once. One per VM; not
// thread-safe.
#pragma once

#include "exec/hosted_resources.hpp"
#include "exec/program.hpp"
#include "exec/transactions.hpp"
#include "model/model.hpp"
#include "resources/pool.hpp"

#include <statenet/error.hpp>

#include <optional>
#include <string>
#include <vector>

namespace statenet::detail {

class ResourceBinder {
public:
    /// The binder must be destroyed after `tx` (a files root is enlisted in it); `tx`
    /// is used only once use_table() was called.
    ResourceBinder(const Model& model, ResourcePools& pools, Program& program, Transactions& tx)
        : model_(model), pools_(pools), program_(program), tx_(tx) {}

    /// `resources_table`: a registry reference to the VM's ctx.resources table.
    void use_table(int resources_table) noexcept { table_ = resources_table; }

    /// Resource `id` for the current work: its connection held (BEGIN on first use) and
    /// bound, or a vector store / files root bound; network resources are bound at setup
    /// and skipped. Returns the error a record fails with (ResourceTimeout, the resource's
    /// named failure, ResourceError) located at `where`.
    std::optional<ErrorInfo> acquire(int id, const std::string& where);
    /// The connection of database resource `id`, held and bound when it was not.
    Connection& hold(int id);
    /// Clears ctx.resources.<name> for connections that went back to their pools.
    void unbind(const std::vector<int>& released) noexcept;

private:
    const Model& model_;
    ResourcePools& pools_;
    Program& program_;
    Transactions& tx_;
    int table_ = LUA_NOREF;
    HostedResources hosted_;
};

}  // namespace statenet::detail
