-- NPC behaviour: edit and save while the game runs; the game reloads it between frames.
local M = {}

-- NPCs with at least this much health chase the player; weaker ones flee.
local courage = 50

function M.brave(data) return data.hp >= courage end

local function damage(ctx) return ctx.event and ctx.event.damage or 10 end

function M.fatal(data, ctx) return data.hp - damage(ctx) <= 0 end

function M.take_damage(data, ctx) data.hp = data.hp - damage(ctx) end

function M.next_waypoint(data) data.waypoint = (data.waypoint or 0) % 4 + 1 end

return M
