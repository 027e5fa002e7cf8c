-- Baseline A: the reference pipeline written by hand in LuaJIT with lua-cjson.
--
--   luajit bench/baseline_a.lua IN.jsonl OUT.jsonl [ERRORS.jsonl]
--
-- Calls the same functions as bench/reference/reference.toml, in the same order:
-- validate (id, amount, email) -> enrich (add_tax, upper_country) -> route (is_big).
-- Valid records go to OUT, failed ones (with the reason) to ERRORS; prints the counts.
local dir = arg[0]:match("^(.*)/[^/]*$") or "."
package.path = dir .. "/reference/?.lua;" .. package.path
package.cpath = package.cpath .. ";/usr/lib/x86_64-linux-gnu/lua/5.1/?.so"

local cjson = require("cjson")
local ref = require("ref")

local input, output, errors = arg[1], arg[2], arg[3] or "/dev/null"
if not input or not output then
  io.stderr:write("usage: luajit baseline_a.lua IN.jsonl OUT.jsonl [ERRORS.jsonl]\n")
  os.exit(2)
end

local decode, encode = cjson.decode, cjson.encode
local valid_id, valid_amount, valid_email = ref.valid_id, ref.valid_amount, ref.valid_email
local add_tax, upper_country, is_big = ref.add_tax, ref.upper_country, ref.is_big
local ctx = { vars = { tax_rate = 0.2, big_amount = 500 } }

local inf = assert(io.open(input, "rb"))
local out = assert(io.open(output, "wb"))
local err = assert(io.open(errors, "wb"))
out:setvbuf("full", 65536)
err:setvbuf("full", 65536)

local total, failed, big, small = 0, 0, 0, 0
for line in inf:lines() do
  total = total + 1
  local data = decode(line)
  local ok, why = valid_id(data, ctx)
  if ok ~= false then ok, why = valid_amount(data, ctx) end
  if ok ~= false then ok, why = valid_email(data, ctx) end
  if ok == false then
    failed = failed + 1
    err:write(encode({ line = total, error = { name = "ValidationFailed", message = why, state = "main/validate" },
                       record = data }), "\n")
  else
    add_tax(data, ctx)
    upper_country(data, ctx)
    if is_big(data, ctx) then big = big + 1 else small = small + 1 end
    out:write(encode(data), "\n")
  end
end
inf:close()
out:close()
err:close()
io.stderr:write(string.format("baseline_a: %d records, %d emitted (big %d, small %d), %d failed\n",
                              total, big + small, big, small, failed))
