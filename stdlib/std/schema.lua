-- std.schema: checks a value against a JSON Schema subset — what std.llm asks of a
-- model's answer. Not a factory module: `compile` checks a schema once, the function
-- it returns checks values.
--
-- Keywords: type (string or list: object, array, string, number, integer, boolean,
-- null), properties, required, additionalProperties (false), items, enum, minimum,
-- maximum, minLength, maxLength, minItems, maxItems. Anything else is an error when the
-- schema is compiled, so a typo is not a check silently skipped.

local type, pairs, concat, format = type, pairs, table.concat, string.format
local util = require("std.util")

local M = {}

local known = {
  type = true, properties = true, required = true, additionalProperties = true, items = true, enum = true,
  minimum = true, maximum = true, minLength = true, maxLength = true, minItems = true, maxItems = true,
  description = true, title = true,
}

local each = util.each

local function length(v)
  if statenet and statenet.len then return statenet.len(v) end
  return #v
end

local function is_array(v)
  if type(v) ~= "table" then return false end
  if length(v) > 0 then return true end
  return next(v) == nil
end

local type_checks = {
  object = function(v) return type(v) == "table" and (length(v) == 0) end,
  array = is_array,
  string = function(v) return type(v) == "string" end,
  number = function(v) return type(v) == "number" end,
  integer = util.is_integer,
  boolean = function(v) return type(v) == "boolean" end,
  null = function(v) return v == nil end,
}

local function type_name(v)
  if v == nil then return "null" end
  if type(v) == "table" then return is_array(v) and length(v) > 0 and "array" or "object" end
  if util.is_integer(v) then return "integer" end
  return type(v)
end

local compile

local function check_schema(schema, where)
  if type(schema) ~= "table" then util.arg_error("schema at %s must be a table", where) end
  for k in pairs(schema) do
    if not known[k] then util.arg_error("schema at %s: unknown keyword '%s'", where, tostring(k)) end
  end
  local types = schema.type
  if type(types) == "string" then types = { types } end
  if types ~= nil then
    for _, t in each(types) do
      if not type_checks[t] then util.arg_error("schema at %s: unknown type '%s'", where, tostring(t)) end
    end
  end
  return types
end

compile = function(schema, where)
  where = where or "$"
  local types = check_schema(schema, where)
  local props = {}
  for name, sub in pairs(schema.properties or {}) do props[name] = compile(sub, where .. "." .. name) end
  local items = schema.items and compile(schema.items, where .. "[]")
  local required = schema.required or {}
  local enum = schema.enum
  local closed = schema.additionalProperties == false
  return function(v, at, problems)
    if types then
      local ok = false
      for i = 1, #types do
        if type_checks[types[i]](v) then ok = true break end
      end
      if not ok then
        problems[#problems + 1] = format("%s: expected %s, got %s", at, concat(types, " or "), type_name(v))
        return
      end
    end
    if v == nil then return end
    if schema.enum then
      local found = false
      for _, e in each(schema.enum) do
        if e == v then found = true break end
      end
      if not found then problems[#problems + 1] = format("%s: %s is not one of the allowed values", at, util.show(v)) end
    end
    if type(v) == "number" then
      if schema.minimum and v < schema.minimum then
        problems[#problems + 1] = format("%s: %s is below the minimum %s", at, util.show(v), schema.minimum)
      end
      if schema.maximum and v > schema.maximum then
        problems[#problems + 1] = format("%s: %s is above the maximum %s", at, util.show(v), schema.maximum)
      end
    elseif type(v) == "string" then
      if schema.minLength and #v < schema.minLength then
        problems[#problems + 1] = format("%s: shorter than %d characters", at, schema.minLength)
      end
      if schema.maxLength and #v > schema.maxLength then
        problems[#problems + 1] = format("%s: longer than %d characters", at, schema.maxLength)
      end
    elseif type(v) == "table" then
      for _, name in each(required) do
        if v[name] == nil then problems[#problems + 1] = format("%s.%s: is required", at, name) end
      end
      for name, check in pairs(props) do
        if v[name] ~= nil then check(v[name], at .. "." .. name, problems) end
      end
      if closed then
        for name in pairs(v) do
          if type(name) == "string" and not props[name] then
            problems[#problems + 1] = format("%s.%s: is not allowed", at, name)
          end
        end
      end
      local n = length(v)
      if items then
        for i = 1, n do items(v[i], format("%s[%d]", at, i), problems) end
      end
      if schema.minItems and n < schema.minItems then
        problems[#problems + 1] = format("%s: fewer than %d items", at, schema.minItems)
      end
      if schema.maxItems and n > schema.maxItems then
        problems[#problems + 1] = format("%s: more than %d items", at, schema.maxItems)
      end
    end
  end
end

-- A checker: check(value) returns nil when the value conforms, else the problems
-- joined by "; " (in schema order for nested properties, sorted for stability).
function M.compile(schema)
  local check = compile(schema, "$")
  return function(value)
    local problems = {}
    check(value, "$", problems)
    if #problems == 0 then return nil end
    table.sort(problems)
    return concat(problems, "; ")
  end
end

return M
