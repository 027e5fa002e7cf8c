-- std.template: `{{path}}` placeholders filled from a table — the prompts of std.llm
-- and the paths and bodies of std.api. Not a factory module: `render` is called by
-- the others (and may be by workflow code).
--
-- `{{a.b}}` is the dotted path a.b of the scope; a table value is written as JSON, a
-- missing one raises ValidationFailed naming the placeholder; `{{a.b?}}` writes "" for
-- a missing value instead. Several scopes may be given: the first that has the path's
-- first key answers (so `{ data, { vars = ctx.vars } }` reads `{{vars.x}}`).

local type, tostring, concat = type, tostring, table.concat
local util = require("std.util")
local json = require("std.json")

local M = {}

local function lookup(scopes, keys)
  for i = 1, #scopes do
    local value = scopes[i][keys[1]]
    if value ~= nil then
      for k = 2, #keys do
        if type(value) ~= "table" then return nil end
        value = value[keys[k]]
      end
      return value
    end
  end
  return nil
end

local function text_of(value)
  if type(value) == "table" then return json.encode(value) end
  if type(value) == "number" and util.is_integer(value) then return string.format("%d", value) end
  return tostring(value)
end

-- The placeholders of `template` as paths, checked once (a factory's load-time check).
function M.placeholders(template)
  local found = {}
  for inner in template:gmatch("{{(.-)}}") do
    local name = inner:match("^%s*(.-)%s*$")
    local optional = name:sub(-1) == "?"
    if optional then name = name:sub(1, -2) end
    found[#found + 1] = util.parse_path(name, "placeholder", nil)
    found[#found].optional = optional
  end
  return found
end

-- The value at dotted path `name` in `scope` (nil when there is none).
function M.value(name, scope)
  local keys = {}
  for key in (name .. "."):gmatch("(.-)%.") do keys[#keys + 1] = key end
  return lookup(scope.scopes or { scope }, keys)
end

-- `scope` is one table or a list of them (`{ scopes = { a, b } }`).
function M.render(template, scope)
  local scopes = scope.scopes or { scope }
  local missing = {}
  local out = template:gsub("{{(.-)}}", function(inner)
    local name = inner:match("^%s*(.-)%s*$")
    local optional = name:sub(-1) == "?"
    if optional then name = name:sub(1, -2) end
    local keys = {}
    for key in (name .. "."):gmatch("(.-)%.") do keys[#keys + 1] = key end
    local value = lookup(scopes, keys)
    if value == nil then
      if not optional then missing[#missing + 1] = name end
      return ""
    end
    return text_of(value)
  end)
  if #missing > 0 then
    error({ name = "ValidationFailed", message = "template: no value for {{" .. concat(missing, "}}, {{") .. "}}" }, 0)
  end
  return out
end

return M
