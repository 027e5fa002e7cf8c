-- The same workflow as valid.toml, with function values; empty tables stand for empty lists.
local helpers = require("helpers")

return {
  name = "valid_lua",
  version = "1.0",
  networks = {
    main = {
      states = {
        start = {
          start = true,
          pre_validate = {},
          transform = function(data) data.tagged = true end,
          arcs = {
            { to = "review", when = helpers.is_big, priority = 10 },
            { to = "done", transform = {} },
          },
        },
        review = {
          validate = { { fn = "std.validate.range", args = { field = "amount", min = 0 } } },
          arcs = { { to = "done", when = function(data) return data.tagged end } },
        },
        done = { ["end"] = true, arcs = {}, retry = {}, on_error = {} },
      },
    },
  },
}
