-- std:files' functions: the load-time check of the params, the per-record preparation
-- (log lines split by a Lua pattern, the field mapping), and the per-item pass of the
-- batch and whole modes (preparation and filters over a list of records).
local type, pairs, ipairs, tostring = type, pairs, ipairs, tostring
local util = require("std.util")

local factory, arg_error = util.factory, util.arg_error

local M = {}

local MODES = { stream = true, batch = true, whole = true }

-- The captures' names, checked against the pattern's captures.
local function line_names(pattern, fields)
  if pattern == "" then
    if fields ~= nil and #fields > 0 then arg_error("'line_fields' needs 'line_pattern'") end
    return nil
  end
  local ok, err = pcall(string.find, "", pattern)
  if not ok then arg_error("'line_pattern' is not a Lua pattern: %s", tostring(err)) end
  local names = {}
  for _, name in util.each(fields or {}) do
    if type(name) ~= "string" or name == "" then arg_error("'line_fields' must be a list of field names") end
    names[#names + 1] = name
  end
  if #names == 0 then arg_error("'line_pattern' needs 'line_fields' (a name for each capture)") end
  return names
end

-- { out = "in.path" } as { to, from } paths; nil when empty.
local function field_map(fields)
  local entries = {}
  for out, from in pairs(fields or {}) do
    if type(from) ~= "string" then arg_error("'fields': '%s' must name a field (a string)", tostring(out)) end
    entries[#entries + 1] = { to = util.parse_path(out, "'fields' key"), from = util.parse_path(from, "'fields' value") }
  end
  if #entries == 0 then return nil end
  return entries
end

-- The record made ready: a line split into named fields, then mapped.
local function preparer(args)
  local pattern = args.line_pattern or ""
  local names = line_names(pattern, args.line_fields)
  local entries = field_map(args.fields)
  return function(data)
    if names then
      local line = data.line
      if type(line) ~= "string" then
        error({ name = "ValidationFailed", message = "line_pattern: the record has no text 'line'" }, 0)
      end
      local captures = { line:match(pattern) }
      if captures[1] == nil then
        error({ name = "ValidationFailed", message = "the line does not match line_pattern: " .. line }, 0)
      end
      for i, name in ipairs(names) do data[name] = captures[i] end
    end
    if not entries then return nil end
    local out = {}
    for _, entry in ipairs(entries) do
      local value = util.get(data, entry.from)
      if value ~= nil then util.put(out, entry.to, value) end
    end
    return out
  end
end

-- "module.fn" as the function it names.
local function resolve(reference)
  local module, name = reference:match("^(.+)%.([^.]+)$")
  if not module then arg_error("'filter' must be a function reference (module.fn), got '%s'", reference) end
  local ok, m = pcall(require, module)
  if not ok then arg_error("'filter': cannot load module '%s': %s", module, tostring(m)) end
  if type(m) ~= "table" or type(m[name]) ~= "function" then
    arg_error("'filter': module '%s' has no function '%s'", module, name)
  end
  return m[name]
end

-- The `where` expression as a function of data and ctx.
local function expression(text)
  local f, err = load("local data, ctx = ...\nreturn (" .. text .. ")", "=where")
  if not f then arg_error("'where' is not a Lua expression: %s", tostring(err)) end
  return f
end

-- Factory run at load (a pre_validate of the first state): a bad param stops the run
-- before it reads a record.
M.check = factory("files_pattern.check",
  { "mode", "line_pattern", "line_fields", "fields", "filter", "where" }, function(args)
  if not MODES[args.mode] then
    arg_error("unknown files mode '%s' (expected stream, batch or whole)", tostring(args.mode))
  end
  line_names(args.line_pattern or "", args.line_fields)
  field_map(args.fields)
  resolve(args.filter)
  expression(args.where)
  return function() return true end
end)

M.prepare = factory("files_pattern.prepare", { "line_pattern", "line_fields", "fields" }, preparer)

-- batch and whole: each record of data[list] prepared, then kept when `filter` and
-- `where` both hold.
M.each = factory("files_pattern.each",
  { "list", "line_pattern", "line_fields", "fields", "filter", "where" }, function(args)
  local list = args.list
  local prepare = preparer(args)
  local filter, where = resolve(args.filter), expression(args.where)
  return function(data, ctx)
    local kept = statenet.array()
    -- data[list] read through the record's view is already this run's own copy.
    for _, record in util.each(data[list] or {}) do
      record = prepare(record) or record
      if filter(record, ctx) and where(record, ctx) then kept[#kept + 1] = record end
    end
    data[list] = kept
  end
end)

function M.keep() end

function M.every_record() return true end

return M
