-- One data flow of the converter: idle or active (moving a batch every second);
-- `spec_changed` takes a new topic without a restart; `stop` ends it.
local function retopic(state)
  return { to = state, on = "spec_changed", transform = { lua = "data.topic = ctx.event.topic" } }
end

return {
  name = "flow",
  version = "1",
  main = "flow",
  networks = {
    flow = {
      states = {
        { name = "idle", start = true, arcs = { { to = "active", on = "activate" }, retopic("idle") } },
        { name = "active",
          arcs = {
            { to = "idle", on = "deactivate" },
            { to = "active", after_ms = 1000, transform = { lua = "data.batches = (data.batches or 0) + 1" } },
            retopic("active"),
          } },
        { name = "done", ["end"] = true },
      },
      any = { arcs = { { to = "done", on = "stop" } } },
    },
  },
}
