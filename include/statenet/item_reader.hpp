// statenet item readers: where a map state's items come from, when a host supplies them.
#pragma once

#include <statenet/export.hpp>
#include <statenet/value.hpp>

#include <functional>
#include <memory>
#include <optional>

namespace statenet {

/// Reads one map state's items, in order, for one run of the state. Called on the
/// thread that runs the record; not shared between runs.
class STATENET_API ItemReader {
public:
    virtual ~ItemReader();
    /// The next item (an object, or any value: it reaches the sub-network as
    /// `{ value = item }`); nullopt at the end. Throws std::runtime_error on a read error,
    /// which fails the map state with ResourceError.
    virtual std::optional<Value> next() = 0;
};

/// Makes a reader for a map state about to run; `params` is the state's `reader` table
/// as the workflow wrote it (its `type` and the reader's own keys). A resumed map skips
/// the items its checkpoint counts by calling next().
using ItemReaderFactory = std::function<std::unique_ptr<ItemReader>(const Value& params)>;

}  // namespace statenet
