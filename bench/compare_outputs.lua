-- Checks that two JSONL outputs hold the same records, line by line, whatever the key
-- order or number formatting (numbers compare with a relative tolerance of 1e-12).
--
--   luajit bench/compare_outputs.lua A.jsonl B.jsonl [MAX_LINES]
package.cpath = package.cpath .. ";/usr/lib/x86_64-linux-gnu/lua/5.1/?.so"
local cjson = require("cjson")

local function same(a, b)
  if type(a) ~= type(b) then return false end
  if type(a) == "number" then return a == b or math.abs(a - b) <= 1e-12 * math.max(math.abs(a), math.abs(b)) end
  if type(a) ~= "table" then return a == b end
  for k, v in pairs(a) do
    if not same(v, b[k]) then return false end
  end
  for k in pairs(b) do
    if a[k] == nil then return false end
  end
  return true
end

local fa, fb = assert(io.open(arg[1], "rb")), assert(io.open(arg[2], "rb"))
local max = tonumber(arg[3]) or math.huge
local n = 0
while n < max do
  local la, lb = fa:read("*l"), fb:read("*l")
  if la == nil and lb == nil then break end
  n = n + 1
  if la == nil or lb == nil then
    io.stderr:write(string.format("line %d: %s ends first\n", n, la == nil and arg[1] or arg[2]))
    os.exit(1)
  end
  if not same(cjson.decode(la), cjson.decode(lb)) then
    io.stderr:write(string.format("line %d differs:\n  %s\n  %s\n", n, la, lb))
    os.exit(1)
  end
end
print(string.format("%d lines compared, identical records", n))
