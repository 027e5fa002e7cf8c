-- statenet machine dispatcher: fires the event and timer arcs of long-lived instances
-- and runs the states they enter, one call per event (driven by src/machine/machine_vm.cpp).
--
-- An instance's committed data stays resident here between events (DATA). An event
-- works on a shallow copy in copy mode, so a failing step leaves the committed data
-- untouched; states run through the same pipeline as records (statenet.runtime).

local rt = require("statenet.runtime")
local stack = require("statenet.machine_stack")  -- frames of instances inside sub-networks
local protocol = require("statenet.protocol")  -- codes shared with C++ (src/lua/protocol.hpp)
local P = rt.pipeline
local ctx = rt.ctx
local user_ctx = rt.user_ctx  -- what functions get (read-only when sandboxed)
local plan, record = P.plan, P.record
local open, run_state, transform, commit, shallow_copy = P.open, P.run_state, P.transform, P.commit, P.shallow_copy
local reason_text = P.reason_text
local END, FAIL = protocol.step.END, protocol.step.FAIL
local tostring = tostring

local M = {}

-- Outcomes returned to C++.
local APPLIED, REJECTED, FAILED = protocol.machine.APPLIED, protocol.machine.REJECTED, protocol.machine.FAILED

local DATA = {}   -- instance handle -> committed data
local FRAMES = {} -- instance handle -> its stored push frames (machine_stack.lua); nil in the main network
local frames      -- the running event's push frames (nil: none yet)
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

function M.setup(copy, max, recover_fn, step_fn, actions, deep)
  copy_mode, max_transitions, recover, step_hook, ACTIONS = copy, max, recover_fn, step_fn, actions
  stack.setup(deep)
  ctx.emit, ctx.send, ctx.start_action = emit, send, start_action
end

-- The applied step's outbox entries (C++ reads them right after the step).
function M.messages()
  local out = OUTBOX
  OUTBOX = {}
  return out
end

-- A state's plan (statenet.runtime's define_state) holds the arcs a waiting instance may
-- take: events[name], timers and now, each a list of { to, when, tf, tf_names, after, label,
-- push } in the order they are tried; `push` (push arcs) is { aid, to, ret, index, copy, net },
-- also under the plan's pushes[index].

-- An instance's data and push frames (nil: in the main network).
function M.put(handle, data, stored)
  DATA[handle] = data
  FRAMES[handle] = stored
end
function M.get(handle) return DATA[handle], FRAMES[handle] end
function M.drop(handle)
  DATA[handle] = nil
  FRAMES[handle] = nil
end

-- An arc to "@previous" fired in state `sid` of an instance that came from no other state.
local function no_previous(sid)
  return FAILED, "NoPreviousState", "an arc to '@previous' fired, but the instance came from no other state",
      plan(sid).qualified
end

local function too_many(sid)
  return FAILED, "MaxTransitions", "more than " .. max_transitions .. " transitions (max_transitions) in one event",
      plan(sid).qualified
end

-- Push arc `a` would go deeper than records may: PushFailed (error name, message).
local function too_deep(a)
  if frames == nil or #frames < stack.MAX_DEPTH then return nil end
  return "PushFailed", "push depth limit (" .. stack.MAX_DEPTH .. ") exceeded pushing into network '" ..
      a.push.net .. "'"
end

-- Enters state `sid` (coming from state `from`) and follows its immediate arcs until an
-- end state or a state that waits (no immediate arc passes). An arc to "@previous"
-- (to = -1) goes back to the state the instance came from: the last other state it
-- was in (a self-transition keeps it). A push arc enters its sub-network (a frame on
-- `frames`); the sub-network's end returns to the arc's return_to, or ends the caller
-- too. A failure nothing catches in a sub-network fails the pushing state (rolled back
-- to its entry), where its retry and on_error apply. Returns APPLIED, final state id,
-- completed, the state before it, the final slot | FAILED, error name, message, state.
local function settle(sid, from, slot)
  local hops, attempt, counts, ename, emsg, estate = 0, 0, {}, nil, nil, nil
  while true do
    local S = plan(sid)
    local view, data, code, name, message
    if S.recovers or (frames and frames[1]) then
      -- A state with retry or on_error catches what its functions raise (records do it
      -- in C++), and so does one inside a sub-network, whose failure goes up to the
      -- pushing state; running out of time or memory still ends the event.
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
    if code == END then
      local ended = sid
      while frames and frames[1] do
        local f
        slot, f = stack.pop(frames, slot)
        if f.arc.ret then
          hops = hops + 1
          if hops > max_transitions then return too_many(f.sid) end
          from, sid, attempt, counts, ename, emsg, estate = f.sid, f.arc.ret, 0, {}, nil, nil, nil
          goto continue
        end
      end
      return APPLIED, ended, true, from, slot
    end
    local chosen
    if code ~= FAIL then
      ename, emsg, estate = nil, nil, nil
      local arcs = S.now
      for i = 1, #arcs do
        local a = arcs[i]
        if a.when == nil or a.when(data, user_ctx) then
          if a.push then name, message = too_deep(a) end
          if name then
            code = FAIL
          else
            data = transform(a.tf, a.tf_names, data, slot, view)
            chosen = a
          end
          break
        end
      end
    end
    if code == FAIL then
      -- The state's retry and on_error, as for records: run it again, or route; with
      -- neither inside a sub-network, the pushing state's, and so on up the stack.
      local failed, what, target = S.qualified, nil, nil
      while true do
        what, target = recover(sid, name, counts)
        if what or frames == nil or frames[1] == nil then break end
        local f
        slot, f = stack.unwind(frames, slot)
        sid, from, attempt, counts = f.sid, f.prev, f.attempt, f.counts
      end
      if what == "retry" then
        counts[target] = (counts[target] or 0) + 1
        attempt = attempt + 1
      elseif what == "route" then
        hops = hops + 1
        if hops > max_transitions then return too_many(sid) end
        ename, emsg, estate = name, message, failed
        if target ~= sid then from = sid end
        sid, attempt, counts = target, 0, {}
      else
        return FAILED, name, message, failed
      end
      goto continue
    end
    do
      local entry = chosen and chosen.push and stack.entry(sid, slot)
      commit(view, slot, false)
      if chosen == nil then return APPLIED, sid, false, from, slot end
      hops = hops + 1
      if hops > max_transitions then return too_many(sid) end
      if chosen.push then
        slot, frames = stack.push(frames, sid, chosen, slot, from, entry, attempt, counts)
        sid, from, attempt, counts = chosen.push.to, -1, 0, {}
        goto continue
      end
      local next_sid = chosen.to
      if next_sid == -1 then
        if from == nil or from < 0 then return no_previous(sid) end
        next_sid = from
      end
      -- A self-transition keeps where the instance came from.
      if next_sid ~= sid then from = sid end
      sid, attempt, counts = next_sid, 0, {}
    end
    ::continue::
  end
end

local function finish(handle, slot, code, a, b, c, d, e)
  if code == APPLIED then
    DATA[handle] = record(slot)
    FRAMES[handle] = stack.store(frames)
  elseif OUTBOX[1] then
    OUTBOX = {}
  end
  frames = nil
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
  frames = stack.open(FRAMES[handle])
  local S = plan(sid)
  ctx.state, ctx.network, ctx.attempt, ctx.error, ctx.event = S.name, S.network, 0, nil, payload
  local view, data = open(S, slot)
  for i = 1, #arcs do
    local a = arcs[i]
    if elapsed == nil or a.after <= elapsed then
      local pass, reason = true, nil
      if a.when then pass, reason = a.when(data, user_ctx) end
      if pass then
        local to, code, x, y, z, w = a.to, nil, nil, nil, nil, nil
        if a.push then
          local name, message = too_deep(a)
          if name then
            finish(handle, slot, FAILED)
            return FAILED, name, message, S.qualified
          end
          transform(a.tf, a.tf_names, data, slot, view)
          local entry = stack.entry(sid, slot)
          commit(view, slot, false)
          local child
          child, frames = stack.push(frames, sid, a, slot, previous, entry, 0, {})
          code, x, y, z, w = settle(a.push.to, -1, child)
        else
          if to == -1 then
            if previous < 0 then
              finish(handle, slot, FAILED)
              return no_previous(sid)
            end
            to = previous
          end
          transform(a.tf, a.tf_names, data, slot, view)
          commit(view, slot, false)
          code, x, y, z, w = settle(to, to == sid and previous or sid, slot)
        end
        if code == APPLIED then return finish(handle, w, code, x, y, reason_text(reason), a.label, z) end
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
  frames = nil
  local code, x, y, z, w = settle(sid, -1, slot)
  if code ~= APPLIED then DATA[handle] = nil end
  if code == APPLIED then return finish(handle, w, code, x, y, nil, nil, z) end
  return finish(handle, slot, code, x, y, z)
end

-- After an error escaped a call above: forget the half-done event.
function M.abort()
  OUTBOX = {}
  frames = nil
  ctx.event = nil
  rt.reset()
end

return M
