-- The monotonic clock (CLOCK_MONOTONIC, as std::chrono::steady_clock) in nanoseconds,
-- read through the FFI: what bench/action_latency.cpp compares its send times with.
local ffi = require("ffi")
ffi.cdef([[
typedef struct { long tv_sec; long tv_nsec; } statenet_bench_timespec;
int clock_gettime(int clock, statenet_bench_timespec* ts);
]])
local ts = ffi.new("statenet_bench_timespec")
local CLOCK_MONOTONIC = 1

local M = {}

function M.stamp()
  ffi.C.clock_gettime(CLOCK_MONOTONIC, ts)
  return tonumber(ts.tv_sec) * 1e9 + tonumber(ts.tv_nsec)
end

return M
