local t = {}
t.self = t
local function f(data) data.x = 1 end
return { name = "c", vars = { loop = t },
  networks = { main = { states = {
    { name = "a", start = true, transform = f, arcs = { { to = "b", when = function(d) return true end } } },
    { name = "b", ["end"] = true } } } } }
