-- A Lua workflow whose trust list is built, not written: refused.
local names = { "f" .. "fi" }
return {
  name = "computed",
  trust = names,
  networks = { main = { states = { s = { start = true, ["end"] = true } } } },
}
