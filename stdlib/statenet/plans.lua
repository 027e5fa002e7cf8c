-- statenet plans: the workflow's functions resolved (at load, once per VM) and each
-- state's plan defined, as the runtime's dispatcher will read them. Installed into
-- statenet.runtime by it (M.load_workflow, M.resolve, M.define_state, M.define_arc).

local type, next, pairs, pcall, tostring = type, next, pairs, pcall, tostring
local getmetatable = debug.getmetatable

-- `M`: the runtime module; `rt`: STATES and ARCS (the plans by id), load_chunk and
-- require (workflow code's), sandboxed, READ_ONLY, raw_pairs and array_mt.
return function(M, rt)
local STATES, ARCS, load_chunk, sandbox_require = rt.STATES, rt.ARCS, rt.load_chunk, rt.require
local sandboxed, READ_ONLY, raw_pairs, array_mt = rt.sandboxed, rt.READ_ONLY, rt.raw_pairs, rt.array_mt

local function require_module(module)
  local ok, mod = pcall(sandboxed and sandbox_require or require, module)
  if not ok then
    local msg = tostring(mod)
    if msg:find("module '" .. module .. "' not found", 1, true) then
      return nil, "unknown module '" .. module .. "' (searched: " ..
          package.path:gsub(";", ", "):gsub("%?", module:gsub("%.", "/")) .. ")"
    end
    -- require wraps syntax errors as "error loading module ... :\n\tfile:line: ...";
    -- keep the one-line "file:line: ..." part.
    msg = msg:match("^error loading module .-\n%s*(.*)$") or msg
    return nil, "module '" .. module .. "' failed to load: " .. msg
  end
  if type(mod) ~= "table" then
    return nil, "module '" .. module .. "' must return a table of functions, not a " .. type(mod)
  end
  return mod
end

local function lookup(module, fn)
  local mod, err = require_module(module)
  if not mod then return nil, err end
  local f = mod[fn]
  if type(f) ~= "function" then
    local names = {}
    for k, v in raw_pairs(READ_ONLY[mod] or mod) do
      if type(v) == "function" then names[#names + 1] = k end
    end
    table.sort(names)
    return nil, "module '" .. module .. "' has no function '" .. fn .. "'" ..
        (#names > 0 and " (it has: " .. table.concat(names, ", ") .. ")" or "")
  end
  return f
end

local workflow_root

-- Runs a Lua workflow file's chunk (loaded by the engine from its source snapshot) so
-- its function values can be found by path.
function M.load_workflow(chunk)
  local ok, root = pcall(chunk)
  if not ok then return nil, tostring(root) end
  workflow_root = root
  return true
end

-- kind: "named" | "factory" | "inline" | "value". Returns the function or nil, message.
function M.resolve(kind, a, b, extra, file, line)
  if kind == "named" then return lookup(a, b) end
  if kind == "factory" then
    local factory, err = lookup(a, b)
    if not factory then return nil, err end
    local ok, f = pcall(factory, extra)
    if not ok then
      local msg = type(f) == "table" and tostring(f.message) or tostring(f)
      return nil, "factory '" .. a .. "." .. b .. "' failed: " .. msg
    end
    if type(f) ~= "function" then
      return nil, "factory '" .. a .. "." .. b .. "' must return a function, not a " .. type(f)
    end
    return f
  end
  if kind == "inline" then
    -- Padding puts the code on its line in the workflow file, so Lua's messages
    -- read "workflow.toml:LINE: ...". `data` and `ctx` arrive as the chunk's varargs.
    local pad = string.rep("\n", math.max(line - 1, 0))
    local head = "local data, ctx = ... "
    -- Parentheses keep `return error(...)` from being a tail call, which would lose
    -- the workflow's file and line in the message.
    local f = load_chunk(pad .. head .. "return (" .. a .. "\n)", "@" .. file)
    if f then return f end
    local err
    f, err = load_chunk(pad .. head .. a, "@" .. file)
    -- The diagnostic already points at this file and line.
    if not f then return nil, "inline Lua: " .. err:gsub("^.-:%d+: ", "", 1) end
    return f
  end
  if kind == "value" then
    local v = workflow_root
    for i = 1, #a do
      if type(v) ~= "table" then break end
      v = v[a[i]]
    end
    if type(v) ~= "function" then return nil, "the Lua workflow changed: no function at this place" end
    return v
  end
  return nil, "unknown function reference kind " .. tostring(kind)
end

-- ---------------------------------------------------------------------------------
-- Plans

local schema_checks = {
  string = function(v) return type(v) == "string" end,
  number = function(v) return type(v) == "number" end,
  integer = function(v) return type(v) == "number" and v == math.floor(v) and v > -2^63 and v < 2^63 end,
  boolean = function(v) return type(v) == "boolean" end,
  table = function(v) return type(v) == "table" end,
  -- An empty table passes both: Lua cannot tell {} from [] (statenet.array marks one).
  object = function(v) return type(v) == "table" and getmetatable(v) ~= array_mt and v[1] == nil end,
  array = function(v)
    return type(v) == "table" and (getmetatable(v) == array_mt or v[1] ~= nil or next(v) == nil)
  end,
  any = function() return true end,
}

local function type_of(v)
  if type(v) == "number" and v == math.floor(v) then return "integer" end
  return type(v)
end

-- spec: array of { field, type, optional }; returns a checker giving a message or nil.
local function compile_schema(spec)
  local n = #spec
  return function(data)
    local problems
    for i = 1, n do
      local f = spec[i]
      local v = data[f[1]]
      local bad
      if v == nil then
        if not f[3] then bad = f[1] .. ": required " .. f[2] .. " is missing" end
      elseif not schema_checks[f[2]](v) then
        bad = f[1] .. ": expected " .. f[2] .. ", got " .. type_of(v)
      end
      if bad then
        problems = problems or {}
        problems[#problems + 1] = bad
      end
    end
    if problems then return table.concat(problems, "; ") end
  end
end

-- Called by C++ once per state with the resolved functions.
-- Function lists carry their length as `n`: `#list` is a call in every compiled trace.
local function counted(list)
  if list then list.n = #list end
end

local function counted_arcs(arcs)
  for i = 1, #arcs do counted(arcs[i].tf) end
end

function M.define_state(sid, plan)
  if plan.schema then plan.schema = compile_schema(plan.schema) end
  counted(plan.pre)
  counted(plan.tf)
  counted(plan.post)
  counted(plan.fallback)
  counted(plan.compensate)
  plan.narcs = #plan.arcs
  counted_arcs(plan.arcs)
  -- The machine arcs (statenet.machine; only a machine's program has them): their
  -- transforms run through the same pipeline.
  if plan.events then
    for _, arcs in pairs(plan.events) do counted_arcs(arcs) end
    counted_arcs(plan.timers)
    counted_arcs(plan.now)
  end
  STATES[sid] = plan
end

function M.define_arc(aid, plan)
  ARCS[aid] = plan
end
end
