-- The progress-update chat session as a machine: one instance per conversation.
-- Events: start_update, task_selected, start_collection, add_data, request_confirmation,
-- confirm, continue_editing, message (free text, routed by intent), cancel,
-- force_abandon, reset, timeout (the recovery event for idle sessions).
local rules = require("chat_rules")

local minute = 60 * 1000
local clarification_ms = 5 * minute   -- an unanswered clarification abandons the session

local function to(state, on, extra)
  local arc = { to = state, on = on }
  for k, v in pairs(extra or {}) do arc[k] = v end
  return arc
end

-- CLARIFICATION goes back to where the session came from with `to = "@previous"`.
local function clarify(priority, when)
  return { to = "CLARIFICATION", on = "message", priority = priority, when = when }
end

return {
  name = "chat-session",
  version = "1.0",
  main = "session",
  recovery = { idle_ms = 30 * minute, event = "timeout" },
  networks = {
    session = {
      states = {
        { name = "IDLE", start = true,
          arcs = { to("TASK_SELECTION", "start_update", { transform = rules.begin_update }) } },
        { name = "TASK_SELECTION",
          arcs = {
            to("AWAITING_ACTION", "task_selected", { when = rules.names_task, transform = rules.select_task }),
            to("AWAITING_ACTION", "message", { when = rules.names_task, transform = rules.select_task }),
            clarify(-10),   -- anything else needs a clarification
          } },
        { name = "AWAITING_ACTION",
          arcs = { to("COLLECTING_DATA", "start_collection") } },
        { name = "COLLECTING_DATA",
          arcs = {
            to("COLLECTING_DATA", "add_data", { transform = rules.add_entry }),
            to("COLLECTING_DATA", "message", { transform = rules.add_entry, priority = -10 }),
            to("CONFIRMATION_PENDING", "request_confirmation", { when = rules.has_entries }),
          } },
        { name = "CONFIRMATION_PENDING",
          arcs = {
            to("COMPLETED", "confirm", { transform = rules.close("confirmed") }),
            to("COLLECTING_DATA", "continue_editing"),
          } },
        { name = "CLARIFICATION",
          entry = rules.reply("Sorry, I did not get that. Which task, or what would you like to do?"),
          arcs = {
            -- Back to the state the session came from (a help inside CLARIFICATION
            -- is a self-transition and keeps it).
            { to = "@previous", on = "message" },
            { to = "ABANDONED", after_ms = clarification_ms, transform = rules.close("clarification_expired") },
          } },
        { name = "COMPLETED", ["end"] = true },
        { name = "ABANDONED", ["end"] = true },
      },
      -- From every non-end state; P0 intents outrank the states' own message arcs.
      any = {
        arcs = {
          to("ABANDONED", "message", { when = rules.wants_cancel, priority = 100, transform = rules.close("user_cancelled") }),
          clarify(90, rules.wants_help),
          to("ABANDONED", "cancel", { transform = rules.close("cancelled") }),
          to("ABANDONED", "force_abandon", { transform = rules.close("force_abandoned") }),
          to("ABANDONED", "timeout", { transform = rules.close("timeout") }),
          to("IDLE", "reset", { transform = rules.reset }),
        },
      },
    },
  },
}
