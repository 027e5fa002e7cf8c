-- A Lua workflow with an arc to 'don' (line 9), a typo for 'done'.
return {
  name = "unknown_target_lua",
  networks = {
    main = {
      states = {
        start = {
          start = true,
          arcs = { { to = "don" } },
        },
        done = { ["end"] = true },
      },
    },
  },
}
