// Reference mode: a record is a row of a sqlite resource's table, read on first touch
// and written back at the record's commit with an optimistic version check.
#pragma once

#include "exec/program.hpp"
#include "exec/transactions.hpp"
#include "model/model.hpp"
#include "resources/pool.hpp"
#include "resources/sqlite_resource.hpp"

#include <statenet/result.hpp>

#include <statenet/value.hpp>

#include <functional>
#include <optional>
#include <stdexcept>

namespace statenet::detail {

/// The row's key from an input record: the key field of an object, or a bare
/// string or integer. Throws std::invalid_argument saying what is wrong.
Value reference_key(const ReferenceConfig& config, const Value& input);

/// The row with that key (every column), or nullopt when there is none.
std::optional<Value> load_reference_row(Connection& connection, const ReferenceConfig& config, const Value& key);

enum class ReferenceWrite { unchanged, written, conflict };

/// Writes the fields of `final_row` that differ from `loaded` (removed ones become
/// NULL) and bumps the version column, only if the row's version is still the one
/// loaded. On success `final_row`'s version is the new one. Throws
/// std::invalid_argument when the run changed the key or the version field.
ReferenceWrite write_reference_row(Connection& connection, const ReferenceConfig& config, const Value& loaded,
                                   Value& final_row);

/// One runner's reference-mode record: its key, its row as loaded (the snapshot its
/// changes are computed against) and how its commit went. Not thread-safe.
class ReferenceRecord {
public:
    ReferenceRecord(const ReferenceConfig& config, Transactions& tx, ResourcePools& pools)
        : config_(config), tx_(tx), pools_(pools) {}

    /// Hands the runtime the row loader (read once, on the record's first touch).
    void install(Program& program);
    /// Forgets the last record.
    void reset() noexcept;
    /// A new record: its key from `input`. Throws std::invalid_argument.
    void begin(const Value& input);
    const Value& key() const noexcept { return key_; }
    /// The row was not found (an on_error route may still end the record well).
    bool missing() const noexcept { return missing_; }
    /// The last commit failed its version check: the record may be re-run.
    bool conflict() const noexcept { return conflict_; }
    /// The field order of the output: the row's, else the input's.
    const Value& order(const Value& input) const;
    /// Writes the row back when it was loaded and the record succeeded; a failure
    /// (Conflict, SchemaViolation, ResourceError) goes into `result`. `hold` gives the
    /// record's connection to the resource.
    void commit(Result& result, bool manual, const std::function<Connection&()>& hold);

private:
    const ReferenceConfig& config_;
    Transactions& tx_;
    ResourcePools& pools_;
    Program* program_ = nullptr;
    Value key_;
    std::optional<Value> row_;
    bool conflict_ = false;
    bool missing_ = false;

    static int lua_load_row(lua_State* L);
};

}  // namespace statenet::detail
