-- A Lua workflow whose top level never ends: validating it must fail, not hang.
local n = 0
while true do n = n + 1 end
return { name = "never", networks = { main = { states = { s = { start = true, ["end"] = true } } } } }
