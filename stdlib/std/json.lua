-- std.json: a Lua value written as compact JSON, object keys sorted (so the same
-- table gives the same text) — for templates, cache keys and log lines — and JSON text
-- read back (std.files). JSON null reads as statenet.null.

local type, pairs, tostring, tonumber, format, concat = type, pairs, tostring, tonumber, string.format, table.concat
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

-- Reading ------------------------------------------------------------------------------

local function bad(text, pos, what)
  error({ name = "InvalidJson", message = format("json: %s at byte %d", what, pos) }, 0)
end

local function skip(text, pos)
  return text:find("[^ \t\r\n]", pos) or #text + 1
end

local decode_value

local function decode_string(text, pos)
  local parts, i = {}, pos + 1
  while true do
    local j = text:find('["\\]', i)
    if not j then bad(text, pos, "unterminated string") end
    parts[#parts + 1] = text:sub(i, j - 1)
    if text:sub(j, j) == '"' then return concat(parts), j + 1 end
    local esc = text:sub(j + 1, j + 1)
    local simple = { b = "\b", f = "\f", n = "\n", r = "\r", t = "\t", ['"'] = '"', ["\\"] = "\\", ["/"] = "/" }
    if simple[esc] then
      parts[#parts + 1] = simple[esc]
      i = j + 2
    elseif esc == "u" then
      local code = tonumber(text:sub(j + 2, j + 5), 16)
      if not code then bad(text, j, "bad \\u escape") end
      if code < 0x80 then parts[#parts + 1] = string.char(code)
      elseif code < 0x800 then
        parts[#parts + 1] = string.char(0xC0 + math.floor(code / 64), 0x80 + code % 64)
      else
        parts[#parts + 1] = string.char(0xE0 + math.floor(code / 4096), 0x80 + math.floor(code / 64) % 64, 0x80 + code % 64)
      end
      i = j + 6
    else
      bad(text, j, "bad escape")
    end
  end
end

decode_value = function(text, pos, depth)
  if depth > 128 then bad(text, pos, "nested deeper than 128 levels") end
  pos = skip(text, pos)
  local c = text:sub(pos, pos)
  if c == "{" then
    local t = {}
    pos = skip(text, pos + 1)
    if text:sub(pos, pos) == "}" then return t, pos + 1 end
    while true do
      if text:sub(pos, pos) ~= '"' then bad(text, pos, "expected a key") end
      local key
      key, pos = decode_string(text, pos)
      pos = skip(text, pos)
      if text:sub(pos, pos) ~= ":" then bad(text, pos, "expected ':'") end
      t[key], pos = decode_value(text, pos + 1, depth + 1)
      pos = skip(text, pos)
      local sep = text:sub(pos, pos)
      if sep == "}" then return t, pos + 1 end
      if sep ~= "," then bad(text, pos, "expected ',' or '}'") end
      pos = skip(text, pos + 1)
    end
  elseif c == "[" then
    local t, n = statenet and statenet.array() or {}, 0
    pos = skip(text, pos + 1)
    if text:sub(pos, pos) == "]" then return t, pos + 1 end
    while true do
      n = n + 1
      t[n], pos = decode_value(text, pos, depth + 1)
      pos = skip(text, pos)
      local sep = text:sub(pos, pos)
      if sep == "]" then return t, pos + 1 end
      if sep ~= "," then bad(text, pos, "expected ',' or ']'") end
      pos = pos + 1
    end
  elseif c == '"' then
    return decode_string(text, pos)
  elseif text:find("^true", pos) then return true, pos + 4
  elseif text:find("^false", pos) then return false, pos + 5
  elseif text:find("^null", pos) then return statenet and statenet.null or nil, pos + 4
  end
  local num = text:match("^-?%d+%.?%d*[eE]?[-+]?%d*", pos)
  if num and tonumber(num) then return tonumber(num), pos + #num end
  bad(text, pos, "unexpected '" .. c .. "'")
end

function M.decode(text)
  local value, pos = decode_value(text, 1, 0)
  pos = skip(text, pos)
  if pos <= #text then bad(text, pos, "text after the value") end
  return value
end

return M
