// StagedWork: a resource whose writes a record stages and the record's transaction
// applies (at commit) or drops (at rollback) — the `files` resource. SQLite connections
// have transactions of their own and are not StagedWork.
#pragma once

#include <cstddef>
#include <string>

namespace statenet::detail {

class StagedWork {
public:
    virtual ~StagedWork() = default;

    /// The resource's name in the workflow, for messages.
    virtual const std::string& name() const noexcept = 0;
    /// A savepoint: what is staged so far. Marks stay valid until commit() or discard().
    virtual std::size_t mark() const noexcept = 0;
    /// Drops what was staged after `mark`.
    virtual void rollback_to(std::size_t mark) noexcept = 0;
    /// Applies everything staged, in order, and empties the stage. Throws
    /// std::runtime_error when an operation fails (what was applied before it stays).
    virtual void commit() = 0;
    /// Drops everything staged.
    virtual void discard() noexcept = 0;
    /// How many operations are staged.
    virtual std::size_t pending() const noexcept = 0;
};

}  // namespace statenet::detail
