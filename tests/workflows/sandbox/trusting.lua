-- A Lua workflow that opts into ffi and os at its top level.
local ffi = require("ffi")
return {
  name = "trusting",
  trust = { "ffi", "os" },
  networks = { main = { states = { s = { start = true, ["end"] = true,
    transform = function(data)
      data.n = tonumber(ffi.new("int[1]", 42)[0])
      data.getenv = type(os.getenv)
    end } } } },
}
