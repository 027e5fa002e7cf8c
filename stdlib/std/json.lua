-- std.json: a Lua value written as compact JSON, object keys sorted (so the same
-- table gives the same text) — for templates, cache keys and log lines. Reading JSON
-- is the resources' job (`http`'s `.json`, `llm`'s JSON mode).

local type, pairs, tostring, format, concat = type, pairs, tostring, string.format, table.concat
local floor, huge = math.floor, math.huge

local M = {}

local escapes = { ['"'] = '\\"', ["\\"] = "\\\\", ["\b"] = "\\b", ["\f"] = "\\f", ["\n"] = "\\n",
  ["\r"] = "\\r", ["\t"] = "\\t" }

local function quote(s)
  return '"' .. s:gsub('[%c"\\]', function(c) return escapes[c] or format("\\u%04x", c:byte()) end) .. '"'
end

-- An empty table is written as {}: Lua cannot tell it from [].
local function is_array(t)
  local n = statenet and statenet.len and statenet.len(t) or #t
  return n > 0, n
end

local encode

local function encode_table(t, depth)
  if depth > 128 then error({ name = "ValidationFailed", message = "json: nested deeper than 128 levels" }, 0) end
  local array, n = is_array(t)
  local parts = {}
  if array then
    for i = 1, n do parts[i] = encode(t[i], depth + 1) end
    return "[" .. concat(parts, ",") .. "]"
  end
  local keys = {}
  for k in pairs(t) do keys[#keys + 1] = tostring(k) end
  if #keys == 0 then return "{}" end
  table.sort(keys)
  for i = 1, #keys do parts[i] = quote(keys[i]) .. ":" .. encode(t[keys[i]], depth + 1) end
  return "{" .. concat(parts, ",") .. "}"
end

encode = function(v, depth)
  local kind = type(v)
  if kind == "string" then return quote(v) end
  if kind == "number" then
    if v ~= v or v == huge or v == -huge then return "null" end
    if v == floor(v) and v > -2^53 and v < 2^53 then return format("%d", v) end
    return format("%.17g", v)
  end
  if kind == "boolean" then return tostring(v) end
  if kind == "table" then return encode_table(v, depth) end
  return "null"
end

function M.encode(value) return encode(value, 0) end

return M
