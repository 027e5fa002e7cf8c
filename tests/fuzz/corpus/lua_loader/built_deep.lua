local deep = {}
local t = deep
for i = 1, 100000 do t.a = {}; t = t.a end
return { name = "deep", vars = { x = deep },
  networks = { main = { states = { s = { start = true, ["end"] = true } } } } }
