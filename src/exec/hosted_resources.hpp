// HostedResources: a runner's resources that are not pooled SQL connections — vector
// stores and files roots — opened at first use and bound into ctx.resources for the
// runner's life.
#pragma once

#include "exec/transactions.hpp"
#include "lua/convert.hpp"
#include "model/model.hpp"
#include "resources/files_resource.hpp"
#include "resources/vector_store.hpp"

#include <lua.hpp>

#include <memory>
#include <vector>

namespace statenet::detail {

/// Not thread-safe (one per runner). A files root is enlisted in the runner's
/// Transactions, so the runner must destroy its Transactions first.
class HostedResources {
public:
    /// Is `decl` one of these (vector, files) rather than a pooled connection?
    static bool hosts(const ResourceDecl& decl) noexcept;

    /// Opens resource `id` on its first use: a vector store (shared by every runner that
    /// opens the same file) or this runner's files root, enlisted in `tx`; binds it into
    /// the ctx.resources table at `resources_index`. Later calls do nothing. Throws
    /// ResourceFailure (and marks `meter` down) when it cannot be opened. Calls are
    /// counted in `meter`.
    void bind(int id, const ResourceDecl& decl, lua_State* L, int resources_index, const ConvertRefs& refs,
              Transactions& tx, ResourceMeter& meter);

private:
    std::vector<std::shared_ptr<VectorStore>> vectors_;
    std::vector<std::unique_ptr<FilesResource>> files_;
};

}  // namespace statenet::detail
