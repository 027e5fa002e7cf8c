-- statenet sandbox: the environment workflow code runs in (docs/security.md), built once
-- per VM by statenet.runtime, which hands over the internals it needs. Workflow code
-- (inline Lua, the modules it requires, a Lua workflow file) is loaded by load_chunk:
-- rewritten by the host so that every loop iteration and function entry runs `tick`,
-- and given USER_ENV as its globals. The runtime and the stdlib keep the full
-- environment they were loaded with.

local type, next, setmetatable, error, select = type, next, setmetatable, error, select
-- The sandbox sees metatables as they are (workflow code's getmetatable may say false).
local getmetatable = debug.getmetatable
local clear = require("table.clear")
local new_table = require("table.new")
local ffi = require("ffi")

-- `rt`: frozen (a read-only view maker), READ_ONLY and VIEW_OF (the runtime's weak maps
-- of read-only proxies and record views), api (statenet.*), host (statenet.host) and
-- raw_ipairs. Returns load_chunk, require (workflow code's) and reset_globals.
return function(rt)
local frozen, READ_ONLY, VIEW_OF, api, host, raw_ipairs = rt.frozen, rt.READ_ONLY, rt.VIEW_OF, rt.api, rt.host, rt.raw_ipairs
local sandboxed = host.sandboxed
local reset_globals


-- The VM's limits, shared with C++ (struct LimitsShared in src/lua/limits.hpp).
ffi.cdef [[
typedef struct { uint32_t call, stop; double budget_ms, limit_ms, memory_cap; int32_t kind, padding; } statenet_limits;
]]
local LIMITS = ffi.cast("statenet_limits*", host.limits)

-- The watchdog sets `stop` to the number of the call it interrupts; an older number
-- is a call that has ended since.
local function interrupted()
  local stop = LIMITS.stop
  return stop ~= 0 and stop == LIMITS.call
end

-- "file:line: " of the workflow code that was running, or "".
local function user_position()
  for level = 3, 50 do
    local info = debug.getinfo(level, "Sl")
    if info == nil then break end
    local source = info.source
    if info.currentline > 0 and source:sub(1, 1) == "@" and not source:find("/statenet/runtime.lua", 1, true)
        and not source:find("/statenet/sandbox.lua", 1, true) then
      return source:sub(2) .. ":" .. info.currentline .. ": "
    end
  end
  return ""
end

local function raise_timeout()
  local limit = string.format("%g", LIMITS.limit_ms)
  local kind = LIMITS.kind
  local at = user_position()
  if kind == 0 then
    -- Loading reports a located message, as for any error in a workflow file.
    error(at .. "the workflow's Lua ran longer than " .. limit .. " ms while loading (limits.call_ms)", 0)
  end
  if kind == 3 then
    error({ name = "DeadlineExceeded", message = at .. "state exceeded its deadline_ms = " .. limit }, 0)
  end
  local message
  if kind == 2 then message = "record exceeded timeout_ms = " .. limit
  else message = "a Lua call ran longer than its limit of " .. limit .. " ms (limits.call_ms)" end
  error({ name = "Timeout", message = at .. message }, 0)
end

-- Ticks are counted; every TICK_CHECK of them looks at the stop flag. (A load of the
-- flag in a compiled loop would be hoisted out of it; the counter's store is not.)
local TICK_CHECK = 1024
local TICKS = { 0, TICK_CHECK }

-- The allocator refuses large blocks beyond the cap; what small ones add up to is
-- looked at here, after a full collection so that garbage does not count.
local function check_memory()
  local cap = LIMITS.memory_cap
  if cap == 0 or collectgarbage("count") * 1024 <= cap then return end
  collectgarbage()
  if collectgarbage("count") * 1024 > cap then
    error({ name = "OutOfMemory", message = user_position() .. "the Lua memory limit of " ..
            string.format("%g", cap / 1048576) .. " MB was reached (limits.memory_mb)" }, 0)
  end
end

local function check_ticks(n)
  TICKS[2] = n + TICK_CHECK
  if interrupted() then raise_timeout() end
  check_memory()
end

local function tick()
  local n = TICKS[1] + 1
  TICKS[1] = n
  if n >= TICKS[2] then check_ticks(n) end
end

local trusted = {}
for _, name in raw_ipairs(host.trust) do trusted[name] = true end

local real = { pcall = pcall, xpcall = xpcall, rawset = rawset, loadstring = loadstring, insert = table.insert,
               remove = table.remove, sort = table.sort }

-- Workflow code's globals: what it sets lands here (and marks it dirty); reads fall
-- through to what loading left and to BASE.
local USER_ENV = {}
local globals_dirty = false
local USER_MT = { __metatable = false }
function USER_MT.__newindex(t, k, v)
  globals_dirty = true
  real.rawset(t, k, v)
end

local function refuse_read_only(t, what)
  if READ_ONLY[t] then error(what .. ": the table is read-only", 3) end
end

-- A record's copy-on-write view is a proxy: raw writes would land in the proxy itself,
-- which the next record reuses, so they go through the view instead.
local function view_rawset(t, k, v)
  refuse_read_only(t, "rawset")
  if t == USER_ENV then globals_dirty = true end
  if VIEW_OF[t] then t[k] = v return t end
  return real.rawset(t, k, v)
end

local function view_insert(t, ...)
  refuse_read_only(t, "table.insert")
  if VIEW_OF[t] == nil then return real.insert(t, ...) end
  local n = api.len(t)
  if select("#", ...) == 1 then t[n + 1] = ... return end
  local pos, v = ...
  for i = n, pos, -1 do t[i + 1] = t[i] end
  t[pos] = v
end

local function view_remove(t, pos)
  refuse_read_only(t, "table.remove")
  if VIEW_OF[t] == nil then
    if pos == nil then return real.remove(t) end
    return real.remove(t, pos)
  end
  local n = api.len(t)
  if n == 0 then return nil end
  pos = pos or n
  local v = t[pos]
  for i = pos, n - 1 do t[i] = t[i + 1] end
  t[n] = nil
  return v
end

local function view_sort(t, less)
  refuse_read_only(t, "table.sort")
  if VIEW_OF[t] == nil then return real.sort(t, less) end
  local c = {}
  for i = 1, api.len(t) do c[i] = t[i] end
  real.sort(c, less)
  for i = 1, #c do t[i] = c[i] end
end

-- pcall and xpcall cannot swallow a Timeout: once the call is interrupted, the error
-- goes on up.
local function rethrow_if_interrupted(ok, ...)
  if not ok and interrupted() then raise_timeout() end
  return ok, ...
end
local function sandbox_pcall(f, ...) return rethrow_if_interrupted(real.pcall(f, ...)) end
local function sandbox_xpcall(f, handler) return rethrow_if_interrupted(real.xpcall(f, handler)) end

local function sandbox_collectgarbage(opt)
  if opt == "count" then return collectgarbage("count") end
  error("collectgarbage: only \"count\" is allowed in the sandbox", 2)
end

local load_chunk

local function sandbox_loadstring(text, chunkname)
  if type(text) ~= "string" then error("loadstring: expected a string", 2) end
  if text:byte(1) == 27 then return nil, "binary chunks are not allowed in the sandbox" end
  return load_chunk(text, chunkname or text)
end

local function sandbox_load(source, chunkname)
  if type(source) == "string" then return sandbox_loadstring(source, chunkname) end
  local parts = {}
  while true do
    local part = source()
    if part == nil or part == "" then break end
    parts[#parts + 1] = part
  end
  return sandbox_loadstring(table.concat(parts), chunkname or "=(load)")
end

local function copy_fields(t, names)
  local c = {}
  for _, name in raw_ipairs(names) do c[name] = t[name] end
  return c
end

local sandbox_table = copy_fields(table, { "concat", "foreach", "foreachi", "getn", "maxn" })
sandbox_table.insert, sandbox_table.remove, sandbox_table.sort = view_insert, view_remove, view_sort
local sandbox_os = copy_fields(os, { "time", "clock", "date", "difftime" })
local sandbox_string = copy_fields(string, { "byte", "char", "find", "format", "gmatch", "gsub", "len", "lower",
                                             "match", "rep", "reverse", "sub", "upper" })

-- Modules workflow code may require besides its own and the stdlib's.
local BUILTIN = {
  string = frozen(sandbox_string, "string"),
  table = frozen(sandbox_table, "table"),
  math = frozen(math, "math"),
  bit = frozen(bit, "bit"),
  coroutine = frozen(coroutine, "coroutine"),
  os = frozen(trusted.os and os or sandbox_os, "os"),
  ["table.new"] = new_table,
  ["table.clear"] = function(t) refuse_read_only(t, "table.clear") if VIEW_OF[t] == nil then clear(t) end end,
}
for _, name in raw_ipairs({ "io", "ffi", "debug", "jit" }) do
  if trusted[name] then BUILTIN[name] = require(name) end
end

local user_loaded = {}
local LOADING = {}
local stdlib_prefix = host.stdlib_dir .. "/"

local function sandbox_require(name)
  if type(name) ~= "string" then error("require: expected a module name", 2) end
  local m = user_loaded[name]
  if m == LOADING then error("loop or previous error loading module '" .. name .. "'", 2) end
  if m ~= nil then return m end
  m = BUILTIN[name]
  if m ~= nil then return m end
  if name == "io" or name == "ffi" or name == "debug" or name == "jit" then
    error("module '" .. name .. "' is not available: the workflow does not trust '" .. name ..
          "' (trust = [\"" .. name .. "\"], see docs/security.md)", 2)
  end
  -- Through the version's snapshot when there is one, so the module is hashed and watched.
  local path, text = host.find_module(name, package.path)
  if path == nil and text == nil then path, text = package.searchpath(name, package.path), nil end
  if not path then error("module '" .. name .. "' not found:" .. (text or ""), 2) end
  if path:sub(1, #stdlib_prefix) == stdlib_prefix then
    -- The engine's own modules run with full privileges; workflow code gets a
    -- read-only view of std.*, and nothing of statenet.* (the engine's internals).
    if name:match("^statenet%.") then error("module '" .. name .. "' is internal to the engine", 2) end
    m = frozen(require(name), name)
  else
    local err
    if text == nil then text, err = host.source(path) end
    if not text then error("error loading module '" .. name .. "' from file '" .. path .. "':\n\t" .. err, 2) end
    local f
    f, err = load_chunk(text, "@" .. path)
    if not f then error("error loading module '" .. name .. "' from file '" .. path .. "':\n\t" .. err, 2) end
    user_loaded[name] = LOADING
    local ok, result = real.pcall(f, name)
    if not ok then
      user_loaded[name] = nil
      error(result, 0)
    end
    m = result
    if m == nil then m = true end
  end
  user_loaded[name] = m
  return m
end

-- The globals every piece of workflow code starts from (frozen: written through
-- USER_ENV, a layer of its own).
local BASE = {
  assert = assert, error = error, ipairs = _G.ipairs, next = next, pairs = _G.pairs, print = print, select = select,
  tonumber = tonumber, tostring = tostring, type = type, unpack = unpack, rawequal = rawequal, rawget = rawget,
  getmetatable = _G.getmetatable, setmetatable = setmetatable, _VERSION = _VERSION,
  pcall = sandbox_pcall, xpcall = sandbox_xpcall, rawset = view_rawset, collectgarbage = sandbox_collectgarbage,
  load = sandbox_load, loadstring = sandbox_loadstring, require = sandbox_require,
  string = BUILTIN.string, table = BUILTIN.table, math = BUILTIN.math, bit = BUILTIN.bit,
  coroutine = BUILTIN.coroutine, os = BUILTIN.os, statenet = frozen(api, "statenet"), _G = USER_ENV,
}
if trusted.io then BASE.io = frozen(io, "io") end
if trusted.debug then BASE.debug, BASE.getfenv, BASE.setfenv = debug, getfenv, setfenv end
if trusted.jit then BASE.jit = jit end
USER_MT.__index = BASE
setmetatable(USER_ENV, USER_MT)

-- Loads `text` as workflow code; returns the function, or nil and the message.
function load_chunk(text, chunkname)
  local f, err = real.loadstring(host.instrument(text), chunkname)
  if not f then
    -- The message about the code as written, not as wrapped.
    local _, original = real.loadstring(text, chunkname)
    return nil, original or err
  end
  setfenv(f, USER_ENV)
  return f(tick)
end
if not sandboxed then load_chunk = loadstring end

-- The globals loading left (a Lua workflow's helpers, a module's) stay for every
-- record; whatever a record sets is gone when the next one begins.
local sealed = false
function reset_globals()
  if not sealed then
    sealed = true
    globals_dirty = false
    local loaded = {}
    for k, v in next, BASE do loaded[k] = v end
    for k, v in next, USER_ENV do loaded[k] = v end
    clear(USER_ENV)
    USER_MT.__index = loaded
  elseif globals_dirty then
    globals_dirty = false
    clear(USER_ENV)
  end
end
if not sandboxed then reset_globals = function() end end

if sandboxed then
  -- Methods on strings ("x"):upper() reach the string library through this metatable:
  -- it must not lead to string.dump, nor let a record change how every string behaves.
  local string_mt = getmetatable("")
  string_mt.__index = sandbox_string
  string_mt.__metatable = false
end

return { load_chunk = load_chunk, require = sandbox_require, reset_globals = reset_globals }
end
