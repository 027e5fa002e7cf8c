-- A protocol converter (the UMH FSMv2 plan's case) as a supervising machine: it owns a
-- connection child and one data-flow child per entry of data.flows, reconciled on every
-- supervisor tick. Events: start, stop, configure (payload merged into the data),
-- child_failed (sent by the supervisor), recover, retire.
local rules = require("converter_rules")

local function configure() return { to = nil, on = "configure", transform = rules.configure } end

local function state(name, arcs, extra)
  local s = { name = name, children = rules.children, arcs = arcs }
  local c = configure()
  c.to = name
  arcs[#arcs + 1] = c
  for k, v in pairs(extra or {}) do s[k] = v end
  return s
end

return {
  name = "protocol-converter",
  version = "1",
  main = "converter",
  vars = { region = "eu-1" },
  machines = {
    connection = { workflow = "connection.lua" },
    flow = { workflow = "flow.lua" },
  },
  supervision = {
    health = rules.health,
    breaker_failures = 3,
    backoff_ms = 1000,
    max_backoff_ms = 8000,
    removal_timeout_ms = 5000,
    max_restarts = 2,
    restart_window_ms = 60000,
  },
  networks = {
    converter = {
      states = {
        state("stopped", { { to = "running", on = "start" } }, { start = true }),
        state("running", { { to = "stopped", on = "stop" }, { to = "degraded", on = "child_failed" } }),
        state("degraded", { { to = "running", on = "recover" }, { to = "stopped", on = "stop" } }),
        { name = "retired", ["end"] = true },
      },
      any = { arcs = { { to = "retired", on = "retire" } } },
    },
  },
}
