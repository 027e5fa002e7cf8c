// The codes C++ and the Lua runtime exchange, defined once here and handed to Lua at setup.
#pragma once

#include <lua.hpp>

namespace statenet::detail {

// Each list is X(C++ name, Lua name); codes count from 0 in list order. The Lua modules
// read them from require("statenet.protocol") into locals when they load, so a code
// costs what a literal did on the hot path.

/// What one step of statenet/runtime.lua tells the runner (after a state ran).
#define STATENET_STEP_OUTCOMES(X) \
    X(end, "END")                 \
    X(arc, "ARC") X(fail, "FAIL") X(branches, "BRANCHES") X(parallel, "PARALLEL") X(map, "MAP") X(wait, "WAIT")

/// What statenet_json_field says a JSON record's field is (runtime.lua's FFI fetch).
/// Ordered: the codes up to `null` are a Lua nil.
#define STATENET_JSON_FIELD_CODES(X) \
    X(absent, "ABSENT")              \
    X(null, "NULL")                  \
    X(false_value, "FALSE") X(true_value, "TRUE") X(number, "NUMBER") X(string, "STRING") X(table, "TABLE")

/// What statenet/machine.lua did with a start, an event or a timer.
#define STATENET_MACHINE_OUTCOMES(X) X(applied, "APPLIED") X(rejected, "REJECTED") X(failed, "FAILED")

#define STATENET_ENUMERATOR(cpp, lua) cpp,
enum class StepOutcome : int { STATENET_STEP_OUTCOMES(STATENET_ENUMERATOR) };
enum class JsonFieldCode : int { STATENET_JSON_FIELD_CODES(STATENET_ENUMERATOR) };
enum class MachineOutcome : int { STATENET_MACHINE_OUTCOMES(STATENET_ENUMERATOR) };
#undef STATENET_ENUMERATOR

/// Sets package.loaded["statenet.protocol"] to { step = { END = 0, ... }, json_field =
/// { ABSENT = 0, ... }, machine = { APPLIED = 0, ... } }. Call it before the runtime
/// modules load; leaves the stack as it was.
void install_protocol(lua_State* L);

}  // namespace statenet::detail
