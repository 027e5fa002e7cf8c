-- A supervisor for the tests: one `stubborn` child per name in data.names (stubborn
-- children ignore `stop`, so only the forced removal deletes them); data.template
-- replaces the children's label template.
local function children(data)
  local specs = {}
  for _, name in ipairs(data.names or {}) do
    specs[#specs + 1] = {
      name = name, workflow = data.workflow or "stubborn",
      spec = { label = data.template or "{{ internal.name }}-{{ user.size }}" },
    }
  end
  if data.explode then error("no children today") end
  return specs
end

return {
  name = "holder",
  main = "holder",
  machines = { stubborn = "stubborn.lua" },
  supervision = { removal_timeout_ms = 1000 },
  networks = {
    holder = {
      states = {
        { name = "holding", start = true, children = children,
          arcs = { { to = "holding", on = "set", transform = { lua = "for k, v in pairs(ctx.event) do data[k] = v end" } } } },
      },
    },
  },
}
