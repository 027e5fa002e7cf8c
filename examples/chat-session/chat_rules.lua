-- Rules of the progress-update chat session: intent routing, guards, data changes and
-- the bot's replies, emitted to the outbox (topic "reply") with the transition.
local M = {}

local function say(ctx, text) ctx.emit("reply", { to = ctx.run_id, text = text }) end

-- An action that replies with fixed text.
function M.reply(text)
  return function(_, ctx) say(ctx, text) end
end

-- Intents that override whatever the session is doing (P0), by keyword.
local overrides = { cancel = "cancel", stop = "cancel", quit = "cancel", help = "help", ["?"] = "help" }

local function intent(ctx)
  local text = ctx.event and ctx.event.text
  if type(text) ~= "string" then return nil end
  return overrides[text:lower():match("^%s*(%S+)")]
end

function M.wants_cancel(_, ctx)
  if intent(ctx) == "cancel" then return true, "P0 override: " .. ctx.event.text end
  return false
end

function M.wants_help(_, ctx) return intent(ctx) == "help" end

-- "task 3", "#3" or "3" in TASK_SELECTION picks a task.
local function task_number(ctx)
  local text = ctx.event and ctx.event.text
  return type(text) == "string" and tonumber(text:match("^%s*[Tt]?[Aa]?[Ss]?[Kk]?%s*#?(%d+)%s*$")) or nil
end

function M.names_task(_, ctx) return task_number(ctx) ~= nil or (ctx.event and ctx.event.task ~= nil) end

function M.select_task(data, ctx)
  data.task = ctx.event.task or ("task-" .. task_number(ctx))
  say(ctx, "Updating " .. data.task .. ". Say when you are ready to add your progress.")
end

function M.begin_update(data, ctx)
  data.user = ctx.event and ctx.event.user or data.user
  data.entries = statenet.array()
  say(ctx, "Which task are you updating?")
end

function M.add_entry(data, ctx)
  local entries = data.entries
  entries[statenet.len(entries) + 1] = ctx.event.text
  data.entries = entries
  say(ctx, "Noted (" .. statenet.len(entries) .. ").")
end

function M.has_entries(data) return data.entries ~= nil and statenet.len(data.entries) > 0 end

function M.close(reason)
  return function(data, ctx)
    data.closure_reason = reason
    say(ctx, reason == "confirmed" and "Thanks, your update is saved." or "Session closed (" .. reason .. ").")
  end
end

function M.reset(data)
  return { user = data.user }
end

return M
