-- Prices with a factor from a module four directories deep, rounded by util from `lib`.
local deep = require("a.b.c.d")
local util = require("util")

return {
  price = function(data) data.total = util.round(data.amount * deep.factor) end,
}
