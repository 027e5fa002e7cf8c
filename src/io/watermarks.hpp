// Incremental loads' watermarks: one row per target table in `statenet_watermarks`, kept in
// the target database so that a watermark moves in the same transaction as the rows it
// covers.
#pragma once

#include "resources/connection.hpp"

#include <statenet/value.hpp>

#include <string>

namespace statenet::detail {

/// A table's watermark row. Values are the source column's, kept as JSON text; null = none.
struct StoredWatermark {
    Value value;    ///< the highest watermark whose rows are committed
    Value pending;  ///< the upper bound of a run that was interrupted (resumable), else null
};

/// The row of `table` (nulls when it has none); creates the watermark table when missing.
/// `parameter` is the dialect's first query parameter (`?` or `$1`). Throws
/// std::runtime_error from the connection.
StoredWatermark read_watermark(Connection& connection, const std::string& table, const char* parameter);

/// Sets the row of `table`, in the connection's current transaction.
void write_watermark(Connection& connection, const std::string& table, const StoredWatermark& watermark);

}  // namespace statenet::detail
