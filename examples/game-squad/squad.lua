-- A game squad supervising its NPCs: members come and go with the squad's data, the
-- squad's state (patrol, attack, retreat) maps to each NPC's stance, an NPC that dies
-- respawns, and one that keeps dying makes the squad retreat (child_failed).
local rules = require("squad_rules")

local function order(state) return { to = state, on = "order", transform = rules.order } end

return {
  name = "game-squad",
  version = "1",
  main = "squad",
  vars = { arena = "canyon" },
  machines = { npc = "npc.lua" },
  supervision = { max_restarts = 2, restart_window_ms = 30000, removal_timeout_ms = 2000 },
  networks = {
    squad = {
      states = {
        { name = "patrol", start = true, children = rules.members,
          arcs = { { to = "attack", on = "enemy_spotted" }, order("patrol") } },
        { name = "attack", children = rules.members,
          arcs = { { to = "patrol", on = "all_clear" }, { to = "retreat", on = "child_failed" }, order("attack") } },
        { name = "retreat", children = rules.members,
          arcs = { { to = "patrol", on = "regrouped" }, order("retreat") } },
        { name = "disbanded", ["end"] = true },
      },
      any = { arcs = { { to = "disbanded", on = "disband" } } },
    },
  },
}
