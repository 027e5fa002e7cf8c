-- The api pattern's steps (stdlib/patterns/api/workflow.toml): calls described in the
-- workflow's vars, run by std.api in one of five modes, their results aggregated.
local api = require("std.api")
local util = require("std.util")
local each, plain = util.each, util.plain

local M = {}

local MODES = { sequential = true, pipeline = true, conditional = true, parallel = true, fanout = true }

local function fail(name, message) error({ name = name, message = message }, 0) end

local function has(v)
  if type(v) ~= "table" then return v ~= nil and v ~= "" end
  for _ in pairs(v) do return true end
  return false
end

-- Built once per VM from the vars (which do not change while a version runs).
local built = {}
local function once(name, build)
  local f = built[name]
  if f == nil then
    f = build()
    built[name] = f
  end
  return f
end

-- A map's failures list stays only when some item failed (tolerated_failures).
local function drop_empty_failures(data)
  if data.failures ~= nil and data.failures[1] == nil then data.failures = nil end
end

local function scope(data, ctx) return { scopes = { data, { vars = ctx.vars } } } end

function M.check_mode(_, ctx)
  local mode = ctx.vars.mode
  if not MODES[mode] then
    fail("ValidationFailed", "unknown mode '" .. tostring(mode) .. "' (sequential, pipeline, conditional, parallel or fanout)")
  end
  if mode == "fanout" then
    if not has(ctx.vars.call) then fail("ValidationFailed", "mode 'fanout' needs vars.call (the call made per item)") end
  elseif not has(ctx.vars.calls) then
    fail("ValidationFailed", "mode '" .. mode .. "' needs vars.calls (a list of calls)")
  end
end

-- sequential, pipeline, conditional: every call in this state, one after the other.
function M.run(data, ctx)
  local run = once("run", function()
    return api.run({ calls = plain(ctx.vars.calls), mode = ctx.vars.mode, into = ctx.vars.into })
  end)
  run(data, ctx)
end

-- parallel: one map item per call (with the record to read templates from); each runs
-- in the call_one network, all of them in flight at once.
function M.plan_parallel(data, ctx)
  local items = {}
  local input = statenet.copy(data)
  for i in each(ctx.vars.calls) do items[i] = { index = i, input = input } end
  data._calls = statenet.array(items)
end

local function checked_calls(ctx)
  return once("calls", function()
    local calls = {}
    for i, spec in each(ctx.vars.calls) do calls[i] = api.check_call(plain(spec), "vars.calls[" .. i .. "]") end
    return calls
  end)
end

function M.call_one(data, ctx)
  local call = checked_calls(ctx)[data.index]
  data.result = api.perform(call, { scopes = { data.input, { vars = ctx.vars } } }, ctx)
  data.input = nil
end

-- The parallel calls' results, in call order, each into its `into` (or name).
function M.gather_parallel(data, ctx)
  local calls = checked_calls(ctx)
  for i, entry in each(data._results) do
    local call = calls[i]
    local name = call.into and call.into.name or call.name or ("call" .. i)
    data[name] = entry.result
  end
  data._calls, data._results = nil, nil
  drop_empty_failures(data)
end

-- fanout: the map state runs vars.call once per item (templates read the item's fields,
-- {{value}} for a scalar item); the results land in order in `into`.
function M.call_item(data, ctx)
  local call = once("call", function() return api.check_call(plain(ctx.vars.call), "vars.call") end)
  data.result = api.perform(call, scope(data, ctx), ctx)
end

function M.gather_fanout(data, ctx)
  local results = {}
  for i, entry in each(data._results) do
    results[i] = entry == statenet.null and statenet.null or entry.result
  end
  local into = ctx.vars.into or "results"
  data[into] = statenet.array(results)
  data._results = nil
  drop_empty_failures(data)
  if has(ctx.vars.aggregate) then
    local aggregate = once("aggregate", function()
      local spec = plain(ctx.vars.aggregate)
      spec.from = spec.from or into
      return api.aggregate(spec)
    end)
    aggregate(data, ctx)
  end
end

return M
