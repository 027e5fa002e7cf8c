-- statenet machine dispatcher: fires the event and timer arcs of long-lived instances
-- and runs the states they enter, one call per event (driven by src/machine/machine_vm.cpp).
--
-- An instance's committed data stays resident here between events (DATA). An event
-- works on a shallow copy in copy mode, so a failing step leaves the committed data
-- untouched; states run through the same pipeline as records (statenet.runtime).

local rt = require("statenet.runtime")
local protocol = require("statenet.protocol")  -- codes shared with C++ (src/lua/protocol.hpp)
local P = rt.pipeline
local ctx = rt.ctx
local user_ctx = rt.user_ctx  -- what functions get (read-only when sandboxed)
local plan, record = P.plan, P.record
local open, run_state, transform, commit, shallow_copy = P.open, P.run_state, P.transform, P.commit, P.shallow_copy
local END, FAIL = protocol.step.END, protocol.step.FAIL
local tostring = tostring

local M = {}

-- Outcomes returned to C++.
local APPLIED, REJECTED, FAILED = protocol.machine.APPLIED, protocol.machine.REJECTED, protocol.machine.FAILED

local DATA = {}   -- instance handle -> committed data
local copy_mode, max_transitions = true, 1000
local recover  -- (sid, error name, retry counts) -> "retry", i | "route", sid | nil (machine_vm.cpp)
-- step(0) before a recovering state's attempt, step(1) after one that worked, step(2)
-- after one that failed: its resource writes roll back with it (machine_vm.cpp).
local step_hook

-- What this step's functions emitted (ctx.emit), sent (ctx.send) and started
-- (ctx.start_action), in order: handed
-- to C++ when the step applies (it writes them to the outbox in the transition's
-- transaction), dropped when it does not.
local OUTBOX = {}

local function emit(topic, payload)
  if type(topic) ~= "string" or topic == "" then
    error("ctx.emit(topic, payload): topic must be a non-empty string", 2)
  end
  OUTBOX[#OUTBOX + 1] = { topic = topic, payload = payload }
end

local function send(instance, event, payload)
  if type(instance) ~= "string" or instance == "" or type(event) ~= "string" or event == "" then
    error("ctx.send(instance, event, payload): instance and event must be non-empty strings", 2)
  end
  OUTBOX[#OUTBOX + 1] = { instance = instance, event = event, payload = payload }
end

-- The workflow's [actions] names (name -> true), for ctx.start_action's check.
local ACTIONS = {}

-- Starts a declared action once the step commits (written in the same transaction);
-- one already in flight for this instance under that name is not started again.
local function start_action(name, args)
  if type(name) ~= "string" or not ACTIONS[name] then
    local known = {}
    for k in pairs(ACTIONS) do known[#known + 1] = k end
    table.sort(known)
    error("ctx.start_action: unknown action '" .. tostring(name) .. "' (declared under [actions]: " ..
        (known[1] and table.concat(known, ", ") or "none") .. ")", 2)
  end
  OUTBOX[#OUTBOX + 1] = { action = name, payload = args }
end

function M.setup(copy, max, recover_fn, step_fn, actions)
  copy_mode, max_transitions, recover, step_hook, ACTIONS = copy, max, recover_fn, step_fn, actions
  ctx.emit, ctx.send, ctx.start_action = emit, send, start_action
end

-- The applied step's outbox entries (C++ reads them right after the step).
function M.messages()
  local out = OUTBOX
  OUTBOX = {}
  return out
end

-- A state's plan (statenet.runtime's define_state) holds the arcs a waiting instance may
-- take: events[name], timers and now, each a list of { to, when, tf, tf_names, after, label }
-- in the order they are tried.

function M.put(handle, data) DATA[handle] = data end
function M.get(handle) return DATA[handle] end
function M.drop(handle) DATA[handle] = nil end

local function reason_text(reason)
  if reason == nil or reason == true then return nil end
  return tostring(reason)
end

-- An arc to "@previous" fired in state `sid` of an instance that came from no other state.
local function no_previous(sid)
  return FAILED, "NoPreviousState", "an arc to '@previous' fired, but the instance came from no other state",
      plan(sid).qualified
end

-- Enters state `sid` (coming from state `from`) and follows its immediate arcs until an
-- end state or a state that waits (no immediate arc passes). An arc to "@previous"
-- (to = -1) goes back to the state the instance came from: the last other state it
-- was in (a self-transition keeps it). Returns APPLIED, final
-- state id, completed, the state before it | FAILED, error name, message, state.
local function settle(sid, from, slot)
  local hops, attempt, counts, ename, emsg, estate = 0, 0, {}, nil, nil, nil
  while true do
    local S = plan(sid)
    local view, data, code, name, message
    if S.recovers then
      -- A state with retry or on_error catches what its functions raise (records do it
      -- in C++); running out of time or memory still ends the event.
      local ok
      step_hook(0)
      ok, view, data, code, name, message = pcall(run_state, S, slot, attempt, ename, emsg, estate)
      if not ok then
        local err = view
        if type(err) == "table" and (err.name == "Timeout" or err.name == "OutOfMemory") then error(err, 0) end
        code = FAIL
        if type(err) == "table" then
          name, message = tostring(err.name or "LuaError"), tostring(err.message or err.name)
        else
          name, message = "LuaError", tostring(err)
        end
      end
      step_hook(code == FAIL and 2 or 1)
    else
      view, data, code, name, message = run_state(S, slot, attempt, ename, emsg, estate)
    end
    if code == END then return APPLIED, sid, true, from end
    if code == FAIL then
      -- The state's retry and on_error, as for records: run it again, or route.
      local what, target = recover(sid, name, counts)
      if what == "retry" then
        counts[target] = (counts[target] or 0) + 1
        attempt = attempt + 1
      elseif what == "route" then
        hops = hops + 1
        if hops > max_transitions then
          return FAILED, "MaxTransitions", "more than " .. max_transitions ..
              " transitions (max_transitions) in one event", S.qualified
        end
        ename, emsg, estate = name, message, S.qualified
        if target ~= sid then from = sid end
        sid, attempt, counts = target, 0, {}
      else
        return FAILED, name, message, S.qualified
      end
      goto continue
    end
    ename, emsg, estate = nil, nil, nil
    local arcs, next_sid = plan(sid).now, nil
    for i = 1, #arcs do
      local a = arcs[i]
      if a.when == nil or a.when(data, user_ctx) then
        data = transform(a.tf, a.tf_names, data, slot, view)
        next_sid = a.to
        break
      end
    end
    commit(view, slot, false)
    if next_sid == nil then return APPLIED, sid, false, from end
    if next_sid == -1 then
      if from == nil or from < 0 then return no_previous(sid) end
      next_sid = from
    end
    hops = hops + 1
    if hops > max_transitions then
      return FAILED, "MaxTransitions", "more than " .. max_transitions ..
          " transitions (max_transitions) in one event", plan(sid).qualified
    end
    -- A self-transition keeps where the instance came from.
    if next_sid ~= sid then from = sid end
    sid, attempt, counts = next_sid, 0, {}
    ::continue::
  end
end

local function finish(handle, slot, code, a, b, c, d, e)
  if code == APPLIED then DATA[handle] = record(slot) elseif OUTBOX[1] then OUTBOX = {} end
  ctx.event = nil
  rt.reset()
  return code, a, b, c, d, e, #OUTBOX
end

-- Tries `arcs` from state `sid` in order (timer arcs only once `elapsed` reaches their
-- after_ms); the first passing one fires. `previous` is the state the instance came to
-- `sid` from (-1: none). Returns APPLIED, final sid, completed, reason, arc label, the
-- state before the final one | REJECTED, reason | FAILED, name, message, state.
local function take(handle, sid, previous, arcs, payload, id, elapsed, what)
  local root = DATA[handle]
  local slot = rt.begin(copy_mode and shallow_copy(root) or root, id, copy_mode)
  local S = plan(sid)
  ctx.state, ctx.network, ctx.attempt, ctx.error, ctx.event = S.name, S.network, 0, nil, payload
  local view, data = open(S, slot)
  for i = 1, #arcs do
    local a = arcs[i]
    if elapsed == nil or a.after <= elapsed then
      local pass, reason = true, nil
      if a.when then pass, reason = a.when(data, user_ctx) end
      if pass then
        local to = a.to
        if to == -1 then
          if previous < 0 then
            finish(handle, slot, FAILED)
            return no_previous(sid)
          end
          to = previous
        end
        transform(a.tf, a.tf_names, data, slot, view)
        commit(view, slot, false)
        local code, x, y, z = settle(to, to == sid and previous or sid, slot)
        if code == APPLIED then return finish(handle, slot, code, x, y, reason_text(reason), a.label, z) end
        return finish(handle, slot, code, x, y, z)
      end
    end
  end
  finish(handle, slot, REJECTED)
  return REJECTED, "no " .. what .. " arc passed its condition in state " .. plan(sid).qualified
end

function M.fire(handle, sid, previous, event, payload, id)
  local arcs = plan(sid).events[event]
  if arcs == nil then
    return REJECTED, "no arc for event '" .. event .. "' in state " .. plan(sid).qualified
  end
  return take(handle, sid, previous, arcs, payload, id, nil, "'" .. event .. "'")
end

function M.fire_timer(handle, sid, previous, elapsed, id)
  return take(handle, sid, previous, plan(sid).timers, nil, id, elapsed, "timer")
end

-- A new instance with `data` entering state `sid`.
function M.start(handle, data, sid, id)
  DATA[handle] = data
  local slot = rt.begin(copy_mode and shallow_copy(data) or data, id, copy_mode)
  ctx.event = nil
  local code, x, y, z = settle(sid, -1, slot)
  if code ~= APPLIED then DATA[handle] = nil end
  if code == APPLIED then return finish(handle, slot, code, x, y, nil, nil, z) end
  return finish(handle, slot, code, x, y, z)
end

-- After an error escaped a call above: forget the half-done event.
function M.abort()
  OUTBOX = {}
  ctx.event = nil
  rt.reset()
end

return M
