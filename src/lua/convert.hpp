// Conversion between statenet::Value and Lua values, at the edges of a record run.
#pragma once

#include <statenet/value.hpp>

#include <lua.hpp>

#include <stdexcept>
#include <string>

namespace statenet::detail {

/// A Lua value that cannot become JSON (a function, a cyclic table, ...).
class ConvertError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

/// Registry references the converters need (the runtime's array marker and view
/// materializer); set once per VM.
struct ConvertRefs {
    int array_mt = LUA_NOREF;
    int materialize = LUA_NOREF;
};

/// Pushes `value` as a Lua value (objects and arrays become tables; empty arrays get
/// the array marker so they leave Lua as []; null becomes nil). Throws ConvertError
/// for a value nested deeper than max_nesting_depth.
void push_value(lua_State* L, const Value& value, const ConvertRefs& refs);

/// True when `value` nests deeper than max_nesting_depth, so push_value would refuse it.
bool exceeds_nesting_limit(const Value& value) noexcept;

/// Reads the Lua value at `index`. Object members named in `order` (the record as it
/// entered) keep that order; others follow. Throws ConvertError.
Value read_value(lua_State* L, int index, const ConvertRefs& refs, const Value* order = nullptr);

/// Appends the Lua value at `index`, a top-level field of a record (so its tables count
/// from level 2 towards max_nesting_depth), as compact JSON, as append_json(read_value(...))
/// would write it; scalars go straight from Lua, without a Value. Throws ConvertError.
void append_lua_json(std::string& out, lua_State* L, int index, const ConvertRefs& refs, const Value* order = nullptr);

/// Brings `data` (the record as it entered) up to date with the table at `root_index`
/// for the top-level keys listed in the table at `dirty_index`: removed fields are
/// erased, changed ones replaced in place, new ones appended sorted by name.
void apply_changes(lua_State* L, int root_index, int dirty_index, const ConvertRefs& refs, Value& data);

}  // namespace statenet::detail
