-- A child that does not stop when asked: it has no `stop` arc.
return {
  name = "stubborn",
  main = "stubborn",
  networks = {
    stubborn = {
      states = {
        { name = "busy", start = true, arcs = { { to = "finished", on = "done" } } },
        { name = "finished", ["end"] = true },
      },
    },
  },
}
