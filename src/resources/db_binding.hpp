// The Lua face of a database resource (sqlite, postgres): ctx.resources.NAME.exec/query/insert/upsert.
#pragma once

#include "lua/convert.hpp"
#include "resources/connection.hpp"
#include "resources/meter.hpp"

#include <lua.hpp>

namespace statenet::detail {

/// Pushes a Lua table with exec/query/insert/upsert bound to `connection` (callable as
/// `db.exec(sql, ...)` or `db:exec(sql, ...)`). Errors raise
/// `{ name = "ResourceError", message = "<resource>: ..." }`. The table holds a light
/// pointer: unbind it before the connection goes back to its pool. Calls are counted
/// in `meter`, which must outlive the table.
void push_db_binding(lua_State* L, Connection* connection, const ConvertRefs& refs, ResourceMeter& meter);

}  // namespace statenet::detail
