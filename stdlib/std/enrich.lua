-- std.enrich: adds to the record what a resource knows about one of its fields — a
-- database row or an HTTP answer — with an in-memory cache per Lua VM (each worker
-- has its own), so repeated keys cost one lookup (docs/stdlib.md#stdenrich).
-- For a cache shared by workers and kept across runs, use the state's `cache` key
-- (docs/recovery.md#cache).

local type, pairs, tostring = type, pairs, tostring
local util = require("std.util")
local template = require("std.template")

local factory, arg_error = util.factory, util.arg_error

local M = {}

-- A bounded cache: at most `size` keys, each kept `ttl_ms` (0: until evicted); the
-- oldest insertion goes first when it is full.
local function new_cache(size, ttl_ms, clock)
  local values, stamps, order, head = {}, {}, {}, 1
  local cache = {}
  function cache.get(key)
    local v = values[key]
    if v == nil then return nil end
    if ttl_ms > 0 and clock() - stamps[key] > ttl_ms then
      values[key] = nil
      return nil
    end
    return v
  end
  function cache.put(key, value)
    if values[key] == nil then
      order[#order + 1] = key
      if #order - head + 1 > size then
        values[order[head]], stamps[order[head]], order[head] = nil, nil, nil
        head = head + 1
      end
    end
    values[key], stamps[key] = value, clock()
  end
  return cache
end

local NOTHING = {}  -- a cached "no row"

local function now_ms() return os.time() * 1000 end  -- wall time, to the second

-- lookup: args
--   key          the record's field whose value is looked up (required)
--   into         where the result goes (required); with `fields`, the fields are
--                copied to the record instead (`into` then unused)
--   resource     a sqlite/postgres resource with `query` (one `?` parameter: the key),
--                or an http resource with `path` (a template reading {{key}})
--   fields       { record_field = "result.path" }: copy these instead of the whole result
--   required     false: a missing row or a 404 leaves the record as it is; true raises NotFound
--   cache_size   1000 keys (0: no cache);  ttl_ms  0 (kept until evicted)
M.lookup = factory("std.enrich.lookup", { "key", "into", "resource", "query", "path", "fields", "required",
  "cache_size", "ttl_ms" }, function(args)
  local key = util.parse_path(args.key, "'key'")
  if type(args.resource) ~= "string" then arg_error("'resource' is required (a resource name)") end
  if (args.query == nil) == (args.path == nil) then arg_error("give 'query' (a database) or 'path' (http)") end
  if args.path then template.placeholders(args.path) end
  local fields
  if args.fields ~= nil then
    fields = {}
    for target, source in pairs(args.fields) do fields[util.parse_path(target, "a 'fields' name")] = util.parse_path(source, "a 'fields' source") end
  elseif args.into == nil then
    arg_error("'into' or 'fields' is required")
  end
  local into = args.into and util.parse_path(args.into, "'into'")
  local size = args.cache_size or 1000
  local cache = size > 0 and new_cache(size, args.ttl_ms or 0, now_ms) or nil
  local name, query, path, required = args.resource, args.query, args.path, args.required == true

  local function fetch(ctx, value)
    local r = ctx.resources[name]
    if r == nil then error({ name = "ResourceError", message = "std.enrich: no resource '" .. name .. "' here" }, 0) end
    if query then return r.query(query, value)[1] end
    local answer = r:get(template.render(path, { key = value }), { raise = false })
    if answer.status == 404 then return nil end
    if answer.status >= 400 then
      error({ name = "HttpError", message = name .. ": GET " .. path .. ": HTTP " .. answer.status }, 0)
    end
    return answer.json
  end

  return function(data, ctx)
    local value = util.get(data, key)
    if value == nil then return end
    local id = type(value) .. ":" .. tostring(value)
    local result = cache and cache.get(id)
    if result == nil then
      result = fetch(ctx, value)
      if cache then cache.put(id, result == nil and NOTHING or result) end
    end
    if result == NOTHING then result = nil end
    if result == nil then
      if required then error({ name = "NotFound", message = key.name .. ": nothing found for " .. util.show(value) }, 0) end
      return
    end
    if fields then
      for target, source in pairs(fields) do util.put(data, target, util.get(result, source)) end
    else
      util.put(data, into, statenet.copy(result))
    end
  end
end)

return M
