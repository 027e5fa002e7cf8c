-- The squad's supervisor logic: one NPC child per member, armed from the squad's
-- variables; the squad's state maps to each NPC's stance.
local M = {}

function M.members(data, ctx)
  local specs = {}
  for _, member in ipairs(data.members or {}) do
    specs[#specs + 1] = {
      name = member,
      workflow = "npc",
      spec = { weapon = "{{ user.weapon }}", formation = "{{ user.formation }}", squad = "{{ internal.id }}" },
      state_map = { patrol = "follow", attack = "fight", retreat = "flee" },
    }
  end
  return specs
end

function M.order(data, ctx)
  for k, v in pairs(ctx.event or {}) do data[k] = v end
  return data
end

return M
