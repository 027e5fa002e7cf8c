-- States given as a list; 'a' is defined twice (the second name is on line 9).
return {
  name = "duplicate_state",
  networks = {
    main = {
      states = {
        { name = "a", start = true, arcs = { { to = "done" } } },
        { name = "done", ["end"] = true },
        { name = "a", ["end"] = true },
      },
    },
  },
}
