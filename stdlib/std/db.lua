-- std.db: declarative reads and writes on a `sqlite` or `postgres` resource — fetch
-- rows by the record's fields, upsert or insert the record's columns, commit now
-- (docs/stdlib.md#stddb). The writes belong to the record's transaction: batches of
-- records per commit are `[transaction] strategy = "batch"`, with `batch_size`.

local type, pairs, tostring = type, pairs, tostring
local util = require("std.util")

local factory, arg_error = util.factory, util.arg_error

local M = {}

local function resource_of(ctx, name)
  local db = ctx.resources[name]
  if db == nil then
    error({ name = "ResourceError", message = "std.db: resource '" .. name .. "' is not acquired here (list it in the "
      .. "state's resources)" }, 0)
  end
  return db
end

local function required_string(args, key)
  if type(args[key]) ~= "string" or args[key] == "" then arg_error("'%s' is required (a non-empty string)", key) end
  return args[key]
end

local function paths(list, what)
  local out = {}
  if list == nil then return out end
  if type(list) ~= "table" or not util.is_list(list) then arg_error("'%s' must be a list of field names", what) end
  for i, name in ipairs(list) do out[i] = util.parse_path(name, "each of '" .. what .. "'") end
  return out
end

local put = util.put

-- fetch: runs `query` with the `params` fields of the record as its parameters.
-- Args: resource, query, params = {}, into (required), one = false (the first row, or
-- nil), required = false (with one: no row raises NotFound).
M.fetch = factory("std.db.fetch", { "resource", "query", "params", "into", "one", "required" }, function(args)
  local name, sql = required_string(args, "resource"), required_string(args, "query")
  local params = paths(args.params, "params")
  local into = util.parse_path(required_string(args, "into"), "'into'")
  local one, required = args.one == true, args.required == true
  if required and not one then arg_error("'required' applies with one = true") end
  return function(data, ctx)
    local values = {}
    for i, p in ipairs(params) do
      local v = util.get(data, p)
      if v == nil then v = statenet.null end
      values[i] = v
    end
    local rows = resource_of(ctx, name).query(sql, unpack(values, 1, #params))
    if not one then return put(data, into, statenet.array(rows)) end
    if rows[1] == nil and required then
      error({ name = "NotFound", message = name .. ": no row for " .. sql }, 0)
    end
    put(data, into, rows[1])
  end
end)

-- The row written for a record: `columns = { column = "field.path" }`, else `fields`
-- (each top-level field of that name), else every top-level field.
local function row_builder(args)
  if args.columns ~= nil and args.fields ~= nil then arg_error("give 'columns' or 'fields', not both") end
  if args.columns ~= nil then
    local map = {}
    for column, field in pairs(args.columns) do map[column] = util.parse_path(field, "a 'columns' field") end
    return function(data)
      local row = {}
      for column, p in pairs(map) do row[column] = util.get(data, p) end
      return row
    end
  end
  if args.fields ~= nil then
    local list = paths(args.fields, "fields")
    return function(data)
      local row = {}
      for _, p in ipairs(list) do row[p.last] = util.get(data, p) end
      return row
    end
  end
  return function(data)
    local row = {}
    for k, v in pairs(data) do row[k] = v end
    return row
  end
end

-- upsert: writes the record's row into `table`, updating the row with the same `key`.
M.upsert = factory("std.db.upsert", { "resource", "table", "key", "columns", "fields" }, function(args)
  local name, tbl, key = required_string(args, "resource"), required_string(args, "table"), required_string(args, "key")
  local row = row_builder(args)
  return function(data, ctx)
    resource_of(ctx, name).upsert(tbl, row(data), key)
  end
end)

-- insert: adds the record's row to `table`; `id_into` keeps the new rowid.
M.insert = factory("std.db.insert", { "resource", "table", "columns", "fields", "id_into" }, function(args)
  local name, tbl = required_string(args, "resource"), required_string(args, "table")
  local row = row_builder(args)
  local id_into = args.id_into and util.parse_path(args.id_into, "'id_into'")
  return function(data, ctx)
    local id = resource_of(ctx, name).insert(tbl, row(data))
    if id_into then put(data, id_into, id) end
  end
end)

-- commit: with `[transaction] strategy = "manual"`, commits what the record wrote so far.
M.commit = factory("std.db.commit", {}, function()
  return function(_, ctx) ctx.commit() end
end)

return M
