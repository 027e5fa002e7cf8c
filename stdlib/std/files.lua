-- std.files: a record's data written to, or read from, a `files` resource, at a path
-- made from the record (a template), as JSON, JSONL lines or text
-- (docs/stdlib.md#stdfiles). The writes are staged with the record's transaction
-- (docs/resources.md#files).

local type, pairs = type, pairs
local util = require("std.util")
local template = require("std.template")
local json = require("std.json")

local factory, arg_error = util.factory, util.arg_error

local M = {}

local FORMATS = { json = true, jsonl = true, text = true }

local function common(args, default_format)
  if type(args.resource) ~= "string" then arg_error("'resource' is required (a files resource's name)") end
  if type(args.path) ~= "string" then arg_error("'path' is required (a template such as \"out/{{id}}.json\")") end
  template.placeholders(args.path)
  local format = args.format or default_format
  if not FORMATS[format] then arg_error("unknown format '%s' (json, jsonl or text)", tostring(format)) end
  return args.resource, args.path, format
end

local function files_of(ctx, name)
  local f = ctx.resources[name]
  if f == nil then
    error({ name = "ResourceError", message = "std.files: resource '" .. name .. "' is not acquired here (list it in "
      .. "the state's resources)" }, 0)
  end
  return f
end

local function content(data, field, format)
  local value = data
  if field then value = util.get(data, field) end
  if format == "text" then
    if type(value) ~= "string" then
      error({ name = "ValidationFailed", message = "std.files: format text needs a string, got " .. type(value) }, 0)
    end
    return value
  end
  local text = json.encode(statenet.copy(value))
  if format == "jsonl" then text = text .. "\n" end
  return text
end

-- write: the record (or `field`) to `path`; format json (default), jsonl or text.
-- `append = true` adds to the file instead (the usual choice for jsonl).
M.write = factory("std.files.write", { "resource", "path", "format", "field", "append" }, function(args)
  local name, path, format = common(args, "json")
  local field = args.field and util.parse_path(args.field, "'field'")
  local append = args.append == true
  return function(data, ctx)
    local f = files_of(ctx, name)
    local target = template.render(path, { scopes = { data, { vars = ctx.vars } } })
    local text = content(data, field, format)
    if append then f:append(target, text) else f:write(target, text) end
  end
end)

-- read: `path` into `into`; json gives a table, jsonl a list of tables, text a string.
-- `required = false`: a missing file leaves the record as it is.
M.read = factory("std.files.read", { "resource", "path", "format", "into", "required" }, function(args)
  local name, path, format = common(args, "json")
  if type(args.into) ~= "string" then arg_error("'into' is required (a field name)") end
  local into = util.parse_path(args.into, "'into'")
  local required = args.required ~= false
  return function(data, ctx)
    local f = files_of(ctx, name)
    local source = template.render(path, { scopes = { data, { vars = ctx.vars } } })
    if not required and not f:exists(source) then return end
    local text = f:read(source)
    local value
    if format == "text" then value = text
    elseif format == "json" then value = json.decode(text)
    else
      value = statenet.array()
      for line in text:gmatch("[^\n]+") do value[#value + 1] = json.decode(line) end
    end
    util.put(data, into, value)
  end
end)

return M
