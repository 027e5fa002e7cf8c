-- statenet machine dispatcher: fires the event and timer arcs of long-lived instances
-- and runs the states they enter, one call per event (driven by src/machine/machine_vm.cpp).
--
-- An instance's committed data stays resident here between events (DATA). An event
-- works on a shallow copy in copy mode, so a failing step leaves the committed data
-- untouched; states run through the same pipeline as records (statenet.runtime).

local rt = require("statenet.runtime")
local I = rt.internal
local ctx = rt.ctx
local user_ctx = rt.user_ctx  -- what functions get (read-only when sandboxed)
local RECS, STATES = I.RECS, I.STATES
local open, run_state, transform, commit, shallow_copy = I.open, I.run_state, I.transform, I.commit, I.shallow_copy
local END, FAIL = I.END, I.FAIL
local tostring = tostring

local M = {}

-- Outcomes returned to C++ (keep in sync with src/machine/machine_vm.cpp).
local APPLIED, REJECTED, FAILED = 0, 1, 2

local DATA = {}   -- instance handle -> committed data
local PLANS = {}  -- state id -> { name, events = { [event] = arcs }, timers = arcs, now = arcs }
local copy_mode, max_transitions = true, 1000

function M.setup(copy, max)
  copy_mode, max_transitions = copy, max
end

-- plan.events[name], plan.timers and plan.now hold arcs { to, when, tf, tf_names, after, label }
-- in the order they are tried.
function M.define(sid, plan) PLANS[sid] = plan end

function M.put(handle, data) DATA[handle] = data end
function M.get(handle) return DATA[handle] end
function M.drop(handle) DATA[handle] = nil end

local function reason_text(reason)
  if reason == nil or reason == true then return nil end
  return tostring(reason)
end

-- Enters state `sid` and follows its immediate arcs until an end state or a state
-- that waits (no immediate arc passes). Returns APPLIED, final state id, completed
-- | FAILED, error name, message, state.
local function settle(sid, slot)
  local hops = 0
  while true do
    local S = STATES[sid]
    local view, data, code, name, message = run_state(S, slot, 0)
    if code == END then return APPLIED, sid, true end
    if code == FAIL then return FAILED, name, message, PLANS[sid].name end
    local arcs, next_sid = PLANS[sid].now, nil
    for i = 1, #arcs do
      local a = arcs[i]
      if a.when == nil or a.when(data, user_ctx) then
        data = transform(a.tf, a.tf_names, data, slot, view)
        next_sid = a.to
        break
      end
    end
    commit(view, slot, false)
    if next_sid == nil then return APPLIED, sid, false end
    hops = hops + 1
    if hops > max_transitions then
      return FAILED, "MaxTransitions", "more than " .. max_transitions ..
          " transitions (max_transitions) in one event", PLANS[sid].name
    end
    sid = next_sid
  end
end

local function finish(handle, slot, code, a, b, c)
  if code == APPLIED then DATA[handle] = RECS[slot] end
  ctx.event = nil
  rt.reset()
  return code, a, b, c
end

-- Tries `arcs` from state `sid` in order (timer arcs only once `elapsed` reaches their
-- after_ms); the first passing one fires. Returns APPLIED, final sid, completed,
-- reason, arc label | REJECTED, reason | FAILED, name, message, state.
local function take(handle, sid, arcs, payload, id, elapsed, what)
  local root = DATA[handle]
  local slot = rt.begin(copy_mode and shallow_copy(root) or root, id, copy_mode)
  local S = STATES[sid]
  ctx.state, ctx.network, ctx.attempt, ctx.error, ctx.event = S.name, S.network, 0, nil, payload
  local view, data = open(S, slot)
  for i = 1, #arcs do
    local a = arcs[i]
    if elapsed == nil or a.after <= elapsed then
      local pass, reason = true, nil
      if a.when then pass, reason = a.when(data, user_ctx) end
      if pass then
        transform(a.tf, a.tf_names, data, slot, view)
        commit(view, slot, false)
        local code, x, y, z = settle(a.to, slot)
        if code == APPLIED then
          finish(handle, slot, code)
          return APPLIED, x, y, reason_text(reason), a.label
        end
        return finish(handle, slot, code, x, y, z)
      end
    end
  end
  finish(handle, slot, REJECTED)
  return REJECTED, "no " .. what .. " arc passed its condition in state " .. PLANS[sid].name
end

function M.fire(handle, sid, event, payload, id)
  local arcs = PLANS[sid].events[event]
  if arcs == nil then
    return REJECTED, "no arc for event '" .. event .. "' in state " .. PLANS[sid].name
  end
  return take(handle, sid, arcs, payload, id, nil, "'" .. event .. "'")
end

function M.fire_timer(handle, sid, elapsed, id)
  return take(handle, sid, PLANS[sid].timers, nil, id, elapsed, "timer")
end

-- A new instance with `data` entering state `sid`.
function M.start(handle, data, sid, id)
  DATA[handle] = data
  local slot = rt.begin(copy_mode and shallow_copy(data) or data, id, copy_mode)
  ctx.event = nil
  local code, x, y, z = settle(sid, slot)
  if code ~= APPLIED then DATA[handle] = nil end
  return finish(handle, slot, code, x, y, z)
end

-- After an error escaped a call above: forget the half-done event.
function M.abort()
  ctx.event = nil
  rt.reset()
end

return M
