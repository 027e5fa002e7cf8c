-- Lua has no empty-list literal: every `{}` here must read as an empty list.
return {
  name = "empty_lists",
  scripts = {},
  networks = {
    main = {
      states = {
        { name = "a", start = true, pre_validate = {}, transform = {}, validate = {},
          retry = {}, on_error = {}, arcs = { { to = "b", transform = {} } } },
        { name = "b", ["end"] = true, arcs = {} },
      },
    },
  },
}
