-- statenet machine push stack: an instance inside sub-networks (push arcs) keeps the
-- frames it returns through, between events (driven by statenet/machine.lua).
--
-- A stored frame (what stays with the instance between events, and what C++ writes to
-- the store) is { sid, index, prev, data, entry }:
--   sid    the pushing state (global id) in the calling network
--   index  the push arc's index among that state's arcs (its plan's pushes[index])
--   prev   the state the instance came to `sid` from (-1: none)
--   data   the calling network's data (copy isolation; nil with share isolation, where
--          the sub-network works on the caller's data itself)
--   entry  the pushing state's data at its entry, kept only when the state has retry
--          or on_error: a failure that comes up from the sub-network rolls it back there
-- During an event a frame also has `arc` (the push plan), `slot` (the caller's slot once
-- opened), `attempt` and `counts` (the pushing state's retries, within the event).

local rt = require("statenet.runtime")
local P = rt.pipeline
local plan, record, adopt, shallow_copy, deep_copy = P.plan, P.record, P.adopt, P.shallow_copy, rt.deep_copy

local M = {}

-- Records' push depth limit (SPEC: 16).
M.MAX_DEPTH = 16

local deep = false  -- copies must be deep (direct-mode states mutate nested tables)

function M.setup(deep_copies) deep = deep_copies end

local function copy(t)
  if deep then return deep_copy(t) end
  return shallow_copy(t)
end

-- The frames an event starts with: new frame tables over the stored ones (which stay as
-- they are until the event applies). nil when the instance is in the main network.
function M.open(stored)
  if stored == nil then return nil end
  local frames = {}
  for i = 1, #stored do
    local f = stored[i]
    frames[i] = {
      sid = f.sid, index = f.index, prev = f.prev, data = f.data, entry = f.entry,
      arc = plan(f.sid).pushes[f.index], attempt = 0, counts = {},
    }
  end
  return frames
end

-- What stays with the instance once the event applied: nil when no frame is left.
function M.store(frames)
  if frames == nil or frames[1] == nil then return nil end
  local stored = {}
  for i = 1, #frames do
    local f = frames[i]
    local data
    if f.arc.copy then data = f.slot and record(f.slot) or f.data end
    stored[i] = { sid = f.sid, index = f.index, prev = f.prev, data = data, entry = f.entry }
  end
  return stored
end

-- The pushing state's data at its entry, kept when it has retry or on_error (taken
-- before its changes are committed into `slot`).
function M.entry(sid, slot)
  if plan(sid).recovers then return copy(record(slot)) end
end

-- Enters the sub-network of push arc `a` taken from state `sid` (the caller's data in
-- `slot`): a new frame on `frames` (nil: a new list). Returns the child's slot, frames.
function M.push(frames, sid, a, slot, prev, entry, attempt, counts)
  frames = frames or {}
  local push = a.push
  local child = rt.push(slot, push.aid, deep)
  frames[#frames + 1] = {
    sid = sid, index = push.index, prev = prev, arc = push, slot = slot, entry = entry,
    attempt = attempt, counts = counts,
  }
  return child, frames
end

-- The caller's slot of frame `f`, opened from its stored data when the event has not
-- used it yet.
local function caller(f)
  if f.slot then return f.slot end
  -- Share isolation keeps no data of its own: the sub-network's data replaces it on return.
  return adopt(f.data and shallow_copy(f.data) or {})
end

-- The sub-network reached an end state: its data flows back into the caller's (map_out,
-- merge or share, as for records). Pops the top frame; returns the caller's slot, frame.
function M.pop(frames, slot)
  local f = frames[#frames]
  frames[#frames] = nil
  local parent = caller(f)
  rt.pop(slot, parent, f.arc.aid)
  return parent, f
end

-- A failure in the sub-network came up to the pushing state: the top frame is popped
-- and the caller's data rolled back to the pushing state's entry. (No entry is kept when
-- the state had neither retry nor on_error as it pushed; should a reload have given it
-- one since, it goes on with the caller's data as the push left it.) Returns the
-- caller's slot, frame.
function M.unwind(frames, slot)
  local f = frames[#frames]
  frames[#frames] = nil
  local root
  if f.entry then root = copy(f.entry)
  elseif f.slot then root = record(f.slot)
  elseif f.data then root = shallow_copy(f.data)
  else root = copy(record(slot)) end  -- share isolation: the data it shares
  rt.free(slot)
  if f.slot then rt.free(f.slot) end
  return adopt(root), f
end

return M
