-- The supervision benchmark's parent: one `member` child per entry of data.members,
-- with a rendered template each and a state mapping.
local function members(data)
  local specs = {}
  for i = 1, data.count do
    specs[i] = { name = "m" .. i, workflow = "member",
                 spec = { address = "{{ user.host }}:" .. (1000 + i), rev = data.rev },
                 state_map = { on = "up", off = "down" } }
  end
  return specs
end

return {
  name = "pack",
  main = "pack",
  machines = { member = "member.lua" },
  networks = {
    pack = {
      states = {
        { name = "on", start = true, children = members,
          arcs = { { to = "on", on = "set", transform = { lua = "for k, v in pairs(ctx.event) do data[k] = v end" } } } },
      },
    },
  },
}
