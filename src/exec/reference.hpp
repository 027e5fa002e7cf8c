// Reference mode: a record is a row of a sqlite resource's table, read on first touch
// and written back at the record's commit with an optimistic version check.
#pragma once

#include "model/model.hpp"
#include "resources/sqlite_resource.hpp"

#include <statenet/value.hpp>

#include <optional>
#include <stdexcept>

namespace statenet::detail {

/// The row's key from an input record: the key field of an object, or a bare
/// string or integer. Throws std::invalid_argument saying what is wrong.
Value reference_key(const ReferenceConfig& config, const Value& input);

/// The row with that key (every column), or nullopt when there is none.
std::optional<Value> load_reference_row(SqliteConnection& connection, const ReferenceConfig& config, const Value& key);

enum class ReferenceWrite { unchanged, written, conflict };

/// Writes the fields of `final_row` that differ from `loaded` (removed ones become
/// NULL) and bumps the version column, only if the row's version is still the one
/// loaded. On success `final_row`'s version is the new one. Throws
/// std::invalid_argument when the run changed the key or the version field.
ReferenceWrite write_reference_row(SqliteConnection& connection, const ReferenceConfig& config, const Value& loaded,
                                   Value& final_row);

}  // namespace statenet::detail
