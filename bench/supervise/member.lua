-- A child of the supervision benchmark.
return {
  name = "member",
  main = "member",
  networks = {
    member = {
      states = {
        { name = "down", start = true, arcs = { { to = "up", on = "go" }, { to = "down", on = "spec_changed" } } },
        { name = "up", arcs = { { to = "down", on = "halt" }, { to = "up", on = "spec_changed" } } },
        { name = "gone", ["end"] = true },
      },
      any = { arcs = { { to = "gone", on = "stop" } } },
    },
  },
}
