-- The converter's connection to its device: down or up; `spec_changed` takes a new
-- address without a restart, `crash` ends it (the supervisor restarts it), `stop` is
-- the supervisor removing it.
local function reconfigure(state)
  return { to = state, on = "spec_changed",
           transform = { lua = "data.address = ctx.event.address; data.reconfigured = (data.reconfigured or 0) + 1" } }
end

return {
  name = "connection",
  version = "1",
  main = "connection",
  networks = {
    connection = {
      states = {
        { name = "down", start = true, arcs = { { to = "up", on = "connect" }, reconfigure("down") } },
        { name = "up", arcs = { { to = "down", on = "disconnect" }, reconfigure("up") } },
        { name = "closed", ["end"] = true },
        { name = "crashed", ["end"] = true },
      },
      any = { arcs = { { to = "closed", on = "stop" }, { to = "crashed", on = "crash" } } },
    },
  },
}
