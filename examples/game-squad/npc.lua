-- One NPC of a squad: follows, fights or flees (the squad's state maps to these), may
-- take cover on its own, dies (an end state: the squad respawns it) or is dismissed.
local function rearm(state)
  return { to = state, on = "spec_changed",
           transform = { lua = "data.weapon = ctx.event.weapon; data.formation = ctx.event.formation" } }
end

return {
  name = "npc",
  version = "1",
  main = "npc",
  networks = {
    npc = {
      states = {
        { name = "follow", start = true,
          arcs = { { to = "fight", on = "engage" }, { to = "flee", on = "fall_back" }, rearm("follow") } },
        { name = "fight",
          arcs = { { to = "flee", on = "fall_back" }, { to = "follow", on = "form_up" }, { to = "cover", on = "take_cover" },
                   rearm("fight") } },
        { name = "cover", arcs = { { to = "fight", on = "engage" }, { to = "flee", on = "fall_back" }, rearm("cover") } },
        { name = "flee", arcs = { { to = "follow", on = "form_up" }, { to = "fight", on = "engage" }, rearm("flee") } },
        { name = "dead", ["end"] = true },
        { name = "dismissed", ["end"] = true },
      },
      any = { arcs = { { to = "dead", on = "die" }, { to = "dismissed", on = "stop" } } },
    },
  },
}
