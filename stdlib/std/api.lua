-- std.api: HTTP calls described as data — a resource, a method, templated path, query
-- and body, and where the answer goes — run one by one (sequential, pipeline,
-- conditional) and their results aggregated (docs/stdlib.md#stdapi). The calls go
-- through an `http` resource, so its rate limit, retries, auth and breaker apply.

local type, pairs, tostring = type, pairs, tostring
local util = require("std.util")
local template = require("std.template")

local factory, arg_error = util.factory, util.arg_error

local M = {}

local METHODS = { GET = true, POST = true, PUT = true, PATCH = true, DELETE = true }
local CALL_KEYS = { name = true, resource = true, method = true, path = true, query = true, json = true,
  into = true, map = true, when = true, raise = true, description = true }

local each, put = util.each, util.put

-- A copy of `v` with every string rendered as a template; a string that is exactly one
-- placeholder ("{{qty}}") gives the value itself, keeping its type.
local function render_all(v, scope)
  if type(v) == "string" then
    local only = v:match("^{{%s*([^{}?]-)%s*}}$")
    if only then
      local value = template.value(only, scope)
      if value ~= nil then return value end
    end
    return template.render(v, scope)
  end
  if type(v) ~= "table" then return v end
  local out = {}
  for k, x in pairs(v) do out[k] = render_all(x, scope) end
  return out
end

local function check_templates(v)
  if type(v) == "string" then template.placeholders(v)
  elseif type(v) == "table" then
    for _, x in pairs(v) do check_templates(x) end
  end
end

-- Copies a call spec (it may be a read-only ctx.vars table) and checks it.
function M.check_call(spec, where)
  if type(spec) ~= "table" then arg_error("%s must be a table", where) end
  local call = {}
  for k, v in pairs(spec) do
    if not CALL_KEYS[k] then arg_error("%s: unknown key '%s'", where, tostring(k)) end
    call[k] = v
  end
  call.method = (call.method or "GET"):upper()
  if not METHODS[call.method] then arg_error("%s: unknown method '%s'", where, call.method) end
  if type(call.path) ~= "string" then arg_error("%s: 'path' is required (a string)", where) end
  call.resource = call.resource or "api"
  check_templates(call.path)
  check_templates(call.query)
  check_templates(call.json)
  if call.map ~= nil then
    local map = {}
    for target, source in pairs(call.map) do map[target] = util.parse_path(source, "map source") end
    call.map = map
  end
  if call.into ~= nil then call.into = util.parse_path(call.into, "'into'") end
  if call.when ~= nil then call.when = util.parse_path(call.when, "'when'") end
  return call
end


-- Runs one checked call with templates read from `scope`; returns what it gives:
-- the mapped fields (`map`), else the JSON answer, else the body.
function M.perform(call, scope, ctx)
  local http = ctx.resources[call.resource]
  if http == nil then
    error({ name = "ResourceError", message = "std.api: no http resource named '" .. call.resource .. "'" }, 0)
  end
  local r = http:request(call.method, template.render(call.path, scope), {
    query = render_all(call.query, scope), json = render_all(call.json, scope), raise = call.raise,
  })
  if call.map then
    local out = {}
    for target, source in pairs(call.map) do out[target] = util.get(r, source) end
    return out
  end
  if r.json ~= nil then return r.json end
  return r.body
end

local function truthy(data, path)
  if not path then return true end
  local v = util.get(data, path)
  return v ~= nil and v ~= false
end

-- call: one call; its result goes to `into` (default: the call's name, else "result").
M.call = factory("std.api.call", { "name", "resource", "method", "path", "query", "json", "into", "map", "when",
  "raise", "description" }, function(args)
  local call = M.check_call(args, "std.api.call")
  local into = call.into or util.parse_path(call.name or "result", "'name'")
  return function(data, ctx)
    if not truthy(data, call.when) then return end
    put(data, into, M.perform(call, { scopes = { data, { vars = ctx.vars } } }, ctx))
  end
end)

-- run: a list of calls in one state.
--   sequential   each call's result goes to its `into` (or name); later calls read it
--   pipeline     each call's templates also read the previous result as {{prev.x}};
--                the last result goes to `into` (default "result")
--   conditional  like sequential, but a call with `when` runs only if that field is truthy
M.run = factory("std.api.run", { "calls", "mode", "into" }, function(args)
  local mode = args.mode or "sequential"
  if mode ~= "sequential" and mode ~= "pipeline" and mode ~= "conditional" then
    arg_error("unknown mode '%s' (sequential, pipeline or conditional)", tostring(mode))
  end
  if type(args.calls) ~= "table" or args.calls[1] == nil then arg_error("'calls' must be a non-empty list") end
  local calls = {}
  for i, spec in each(args.calls) do
    calls[i] = M.check_call(spec, "calls[" .. i .. "]")
    calls[i].into = calls[i].into or util.parse_path(calls[i].name or ("call" .. i), "call name")
  end
  local into = util.parse_path(args.into or "result", "'into'")
  return function(data, ctx)
    local prev
    for _, call in ipairs(calls) do
      if mode ~= "conditional" or truthy(data, call.when) then
        local result = M.perform(call, { scopes = { data, { vars = ctx.vars, prev = prev } } }, ctx)
        if mode == "pipeline" then prev = result else put(data, call.into, result) end
      end
    end
    if mode == "pipeline" then put(data, into, prev) end
  end
end)

local OPS = { collect = true, sum = true, count = true, min = true, max = true, merge = true }

-- aggregate: a list (a map state's results, a call's array answer) reduced to one value.
-- Args: from (the list's field), into, op (collect | sum | count | min | max | merge),
-- field (for collect, sum, min, max: the entries' field; default the entries themselves).
M.aggregate = factory("std.api.aggregate", { "from", "into", "op", "field" }, function(args)
  local from = util.parse_path(args.from or "results", "'from'")
  local into = util.parse_path(args.into or "aggregate", "'into'")
  local op = args.op or "collect"
  if not OPS[op] then arg_error("unknown op '%s' (collect, sum, count, min, max or merge)", tostring(op)) end
  local field = args.field and util.parse_path(args.field, "'field'")
  return function(data)
    local list = util.get(data, from)
    if type(list) ~= "table" then
      error({ name = "ValidationFailed", message = from.name .. ": expected a list to aggregate" }, 0)
    end
    local acc = (op == "collect" or op == "merge") and {} or nil
    local n = 0
    for _, entry in each(list) do
      local v = entry
      if field and type(entry) == "table" then v = util.get(entry, field) end
      if v ~= nil and v ~= statenet.null then
        n = n + 1
        if op == "collect" then acc[#acc + 1] = v
        elseif op == "merge" then
          if type(v) == "table" then for k, x in pairs(v) do acc[k] = x end end
        elseif op == "sum" then acc = (acc or 0) + v
        elseif op == "min" then acc = (acc == nil or v < acc) and v or acc
        elseif op == "max" then acc = (acc == nil or v > acc) and v or acc
        end
      end
    end
    if op == "count" then acc = n end
    if op == "collect" then acc = statenet.array(acc) end
    put(data, into, acc)
  end
end)

return M
