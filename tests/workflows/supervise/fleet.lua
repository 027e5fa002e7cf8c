-- Two levels of supervision for the tests: a fleet supervising protocol converters
-- (examples/protocol-converter), each supervising its connection and flows.
local function children(data)
  local specs = {}
  for _, site in ipairs(data.sites or {}) do
    specs[#specs + 1] = {
      name = site, workflow = "converter",
      spec = { host = "{{ user.gateway }}", port = 502, site = site, flows = { "temp" } },
      state_map = { live = "running", idle = "stopped" },
    }
  end
  return specs
end

return {
  name = "fleet",
  main = "fleet",
  vars = { region = "eu-2" },   -- global for the whole tree: the converters' templates read it
  machines = { converter = "../../../examples/protocol-converter/converter.lua" },
  networks = {
    fleet = {
      states = {
        { name = "idle", start = true, children = children, arcs = { { to = "live", on = "go" } } },
        { name = "live", children = children, arcs = { { to = "idle", on = "halt" } } },
      },
    },
  },
}
