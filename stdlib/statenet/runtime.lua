-- statenet runtime: the Lua-side dispatcher that runs one state's functions for a
-- record in one call; the record data it works on lives in statenet/records.lua.
--
-- The C++ executor owns control flow (which state next, retries, pushes, limits);
-- this module owns everything that touches record data, so a record stays resident
-- in Lua while it moves through states and each (record, state) costs one pcall.

local type, pairs, ipairs, next, setmetatable, error, tostring =
    type, pairs, ipairs, next, setmetatable, error, tostring
-- The runtime sees metatables as they are: those workflow code may hold (arrays, views,
-- read-only proxies) say `false` to its getmetatable.
local getmetatable = debug.getmetatable
local clear = require("table.clear")
local new_table = require("table.new")
local ffi = require("ffi")

local M = {}

-- Codes shared with C++, defined in src/lua/protocol.hpp and installed by the VM's setup.
local protocol = require("statenet.protocol")

-- Step outcomes returned to C++.
local END, ARC, FAIL, BRANCHES, PARALLEL, MAP, WAIT = protocol.step.END, protocol.step.ARC, protocol.step.FAIL,
  protocol.step.BRANCHES, protocol.step.PARALLEL, protocol.step.MAP, protocol.step.WAIT

-- How a record's data lives in Lua: lazy roots, copies, copy-on-write views (statenet/records.lua).
local records = require("statenet.records")
local TOMB, array_mt, VIEW_OF, READ_ONLY = records.TOMB, records.array_mt, records.VIEW_OF, records.READ_ONLY
local touch, deep_copy, shallow_copy, new_view = records.touch, records.deep_copy, records.shallow_copy, records.new_view
local json_mt, row_mt, FETCHED = records.json_mt, records.row_mt, records.FETCHED
local raw_pairs, raw_ipairs, api = records.raw_pairs, records.raw_ipairs, records.api
M.array_mt, M.deep_copy, M.api, M.materialize = array_mt, deep_copy, api, records.materialize
M.set_reference_loader, M.set_json_source = records.set_reference_loader, records.set_json_source

local STATES = {}   -- global state id -> plan (see M.define_state)
local ARCS = {}     -- global arc id -> { map_in, map_out, copy }
local RECS = {}     -- slot -> committed record root (a plain table)
local SNAP = {}     -- slot -> shallow snapshot taken before a push arc commits
local VIEWS = {}    -- slot -> reusable copy-on-write view
local FREE = {}     -- free slots
local OUT = {}      -- breadth-first step output: slot, arc index pairs
local nslots = 0

-- What the host grants workflow code (src/lua/sandbox.cpp): sandboxed unless the
-- benchmark baseline turned it off.
local host = require("statenet.host")
local sandboxed = host.sandboxed

-- The ctx that functions get, its vars, params and log (statenet/context.lua).
local context = require("statenet.context")({
  READ_ONLY = READ_ONLY, api = api, sandboxed = sandboxed, raw_ipairs = raw_ipairs,
})
local ctx, user_ctx, frozen, read_only = context.ctx, context.user_ctx, context.frozen, context.read_only
M.ctx, M.user_ctx, M.setup, M.set_run_id_source = ctx, user_ctx, context.setup, context.set_run_id_source

local reset_globals  -- between records: see the Sandbox section

-- ---------------------------------------------------------------------------------
-- Slots: the records (and sub-network copies, breadth-first branches) of one run.

local function alloc(root)
  local slot = FREE[#FREE]
  if slot then FREE[#FREE] = nil
  else
    nslots = nslots + 1
    slot = nslots
  end
  RECS[slot] = root
  return slot
end

local default_copy = true

-- What the run changed in the record's top level, so that only those fields are read
-- back into C++: DIRTY holds the keys; `whole` means anything may have changed (a
-- direct-mode state, a replaced record, a push or a breadth-first split).
local DIRTY = {}
local whole = false

-- What the run in `slot` changed, and that slot's record.
function M.changes(slot) return whole, DIRTY, RECS[slot] end

-- What each step changed, for execution history at level full (off otherwise, so it
-- costs one test per step): STEP holds the top-level keys the step changed in the
-- record of slot `step_slot` (or in `step_root`, a breadth-first step's result);
-- `step_whole` means the step replaced the record or mutated it in place.
local track = false
local STEP = {}
local step_whole, step_slot, step_root = false, nil, nil

function M.track_steps(on) track = on end

-- The last step's changes: { set = { field = value }, unset = { field } } (each part
-- only when not empty), or { replace = record }.
function M.step_changes()
  local root = step_root or RECS[step_slot]
  if step_whole then
    touch(root)  -- a lazy record is read back whole
    return { replace = root }
  end
  local set, unset
  for k in next, STEP do
    local v = root[k]
    if v == nil then
      unset = unset or setmetatable({}, array_mt)
      unset[#unset + 1] = k
    else
      set = set or {}
      set[k] = v
    end
  end
  return { set = set, unset = unset }
end

-- Starts a record run; `copy` is the data mode of states that do not set their own.
function M.begin(root, run_id, copy)
  M.reset()
  reset_globals()
  default_copy = copy
  whole = not copy
  clear(DIRTY)
  ctx.run_id = run_id
  ctx.error = nil
  ctx.signal = nil
  ctx.attempt = 0
  return alloc(root)
end

-- Starts a reference-mode run: the root is the key field alone, loaded on first touch.
function M.begin_reference(key, value, run_id, copy)
  local root = setmetatable({ [key] = value }, row_mt)
  return M.begin(root, run_id, copy)
end

-- Starts a run on the JSON record the runner holds: fields are decoded as read.
function M.begin_json(run_id, copy, nfields)
  clear(FETCHED)
  local root = setmetatable(new_table(0, nfields), json_mt)
  return M.begin(root, run_id, copy)
end

-- Fills a lazy record whole: a reference-mode row no function touched (its output is
-- the row), or a JSON record about to be read back whole.
function M.touch(slot) touch(RECS[slot]) end

function M.get(slot) return RECS[slot] end

function M.free(slot)
  RECS[slot] = nil
  SNAP[slot] = nil
  FREE[#FREE + 1] = slot
end

-- Forgets every slot of the previous run (called as the next one begins).
function M.reset()
  for slot = 1, nslots do
    RECS[slot] = nil
    SNAP[slot] = nil
  end
  clear(FREE)
  -- FREE is a stack: slot 1 is handed out first again.
  for i = 1, nslots do FREE[i] = nslots - i + 1 end
end

-- A copy for a new breadth-first branch or a copy-isolated sub-network.
function M.clone(slot, deep)
  local root = RECS[slot]
  return alloc(deep and deep_copy(root) or shallow_copy(root))
end

-- Rolls a pushing state back to its entry (a sub-network below it failed).
function M.restore(slot)
  local snap = SNAP[slot]
  if snap then
    RECS[slot] = snap
    SNAP[slot] = nil
  end
end

-- Enters a sub-network through push arc `aid`; returns the child's slot.
function M.push(slot, aid, deep)
  whole = true
  local a = ARCS[aid]
  local root = RECS[slot]
  if not a.copy then return alloc(root) end
  local map = a.map_in
  if map == nil then return alloc(deep and deep_copy(root) or shallow_copy(root)) end
  local child = {}
  for i = 1, #map, 2 do
    local v = root[map[i]]
    if type(v) == "table" and deep then v = deep_copy(v) end
    child[map[i + 1]] = v
  end
  return alloc(child)
end

-- Leaves a sub-network: its data flows back through map_out, or by merge (copy
-- isolation) or as is (share isolation). Frees the child's slot.
function M.pop(child, parent, aid)
  local a = ARCS[aid]
  local data = RECS[child]
  if not a.copy then
    RECS[parent] = data
  else
    local root = RECS[parent]
    local map = a.map_out
    if map == nil then
      for k, v in next, data do root[k] = v end
    else
      for i = 1, #map, 2 do root[map[i + 1]] = data[map[i]] end
    end
  end
  SNAP[parent] = nil
  M.free(child)
end

-- A parked record back at its waiting state `sid` (after begin): ctx as the state's arcs
-- see it, with the signal's payload read-only like ctx.vars (nil when it timed out).
function M.resume(sid, payload)
  local S = STATES[sid]
  ctx.state, ctx.network, ctx.attempt = S.name, S.network, 0
  if type(payload) == "table" then payload = read_only(payload, "ctx.signal") end
  ctx.signal = payload
end

-- ---------------------------------------------------------------------------------
-- Sandbox (docs/security.md; statenet/sandbox.lua).

local sandbox = require("statenet.sandbox")({
  frozen = frozen, READ_ONLY = READ_ONLY, VIEW_OF = VIEW_OF, api = api, host = host, raw_ipairs = raw_ipairs,
})
local load_chunk, sandbox_require = sandbox.load_chunk, sandbox.require
reset_globals = sandbox.reset_globals
M.load_chunk = load_chunk

-- ---------------------------------------------------------------------------------
-- Function resolution and plans (statenet/plans.lua).

local function fail_named(name, message) error({ name = name, message = message }, 0) end

require("statenet.plans")(M, {
  STATES = STATES, ARCS = ARCS, load_chunk = load_chunk, require = sandbox_require, sandboxed = sandboxed,
  READ_ONLY = READ_ONLY, raw_pairs = raw_pairs, array_mt = array_mt,
})

-- ---------------------------------------------------------------------------------
-- The dispatcher

local function validation_message(result, why, names, i)
  if type(result) == "table" then
    local parts = {}
    for k, v in raw_pairs(result) do parts[#parts + 1] = tostring(k) .. ": " .. tostring(v) end
    table.sort(parts)
    if #parts > 0 then return table.concat(parts, "; ") end
  end
  if why ~= nil then return tostring(why) end
  return "validator " .. names[i] .. " failed"
end

-- The per-record loops over a state's functions and arcs are unrolled for the first
-- entries: a hot loop of one to three iterations makes a poor LuaJIT trace (its root
-- trace keeps leaving the loop and aborting), while straight-line code is compiled
-- into the trace of the call that runs it.

local function check(ok, why, names, i, data)
  if ok == false or (type(ok) == "table" and ok ~= data) then
    return validation_message(ok, why, names, i)
  end
end

local function validate(list, names, data)
  local n = list.n
  if n == 0 then return end
  local ok, why = list[1](data, user_ctx)
  local msg = check(ok, why, names, 1, data)
  if msg or n == 1 then return msg end
  ok, why = list[2](data, user_ctx)
  msg = check(ok, why, names, 2, data)
  if msg or n == 2 then return msg end
  ok, why = list[3](data, user_ctx)
  msg = check(ok, why, names, 3, data)
  if msg or n == 3 then return msg end
  for i = 4, n do
    ok, why = list[i](data, user_ctx)
    msg = check(ok, why, names, i, data)
    if msg then return msg end
  end
end

-- Runs transforms; a returned table replaces the record. Returns the data to go on with.
local function replaced(r, names, i, data, slot, view)
  if type(r) ~= "table" then
    fail_named("LuaError", "transform " .. names[i] .. " returned a " .. type(r) ..
        " (return nil to keep the data, or a table to replace it)")
  end
  local inner = VIEW_OF[r]
  if inner then r = inner.materialize() end
  if view then
    view.replace(r)
    return data
  end
  RECS[slot] = r
  return r
end

local function transform(list, names, data, slot, view)
  local n = list.n
  if n == 0 then return data end
  local r = list[1](data, user_ctx)
  if r ~= nil and r ~= data then data = replaced(r, names, 1, data, slot, view) end
  if n == 1 then return data end
  r = list[2](data, user_ctx)
  if r ~= nil and r ~= data then data = replaced(r, names, 2, data, slot, view) end
  if n == 2 then return data end
  for i = 3, n do
    r = list[i](data, user_ctx)
    if r ~= nil and r ~= data then data = replaced(r, names, i, data, slot, view) end
  end
  return data
end

-- The record in `slot` as state S's functions see it: a copy-on-write view (copy
-- mode) or the record itself (direct mode). Returns the view (nil in direct mode), data.
local function open(S, slot)
  local copy = S.copy
  if copy == nil then copy = default_copy end
  if not copy then
    whole = true
    local data = RECS[slot]
    touch(data)  -- direct mode promises a plain table: next() and rawget see every field
    return nil, data
  end
  local view = VIEWS[slot]
  if view == nil then
    view = new_view()
    VIEWS[slot] = view
  end
  view.open(RECS[slot])
  return view, view.proxy
end

-- The recovery strategies' Lua side: the result cache, compensations (statenet/strategies.lua).
local strategies = require("statenet.strategies")(M, {
  STATES = STATES, ctx = ctx, user_ctx = user_ctx, deep_copy = deep_copy, open = open,
})

-- The state's functions: a cached result instead when it has one, its fallback in
-- place of them when `fallback` is set (docs/recovery.md).
local function enter(S, slot, attempt, ename, emsg, estate, fallback)
  ctx.state = S.name
  ctx.network = S.network
  ctx.attempt = attempt
  if ename then
    ctx.error = { name = ename, message = emsg, state = estate }
  else
    ctx.error = nil
  end
  local view, data = open(S, slot)
  if track then
    clear(STEP)
    step_whole, step_slot, step_root = view == nil, slot, nil
  end
  if fallback then return view, transform(S.fallback, S.fallback_names, data, slot, view) end
  local key, entry
  if S.cache_key then
    key, entry = strategies.lookup(S, data)
    if key == nil then return view, data end  -- a hit, applied
  end
  if S.schema then
    local problem = S.schema(data)
    if problem then return nil, nil, "SchemaViolation", problem end
  end
  local msg = validate(S.pre, S.pre_names, data)
  if msg then return nil, nil, "ValidationFailed", msg end
  data = transform(S.tf, S.tf_names, data, slot, view)
  msg = validate(S.post, S.post_names, data)
  if msg then return nil, nil, "ValidationFailed", msg end
  if key ~= nil then strategies.store(S, key, entry, data) end
  return view, data
end

-- Makes a copy-mode state's changes the record's committed data.
local function commit(view, slot, snapshot)
  if view == nil then return end
  local root = RECS[slot]
  if snapshot then SNAP[slot] = shallow_copy(root) end
  if view.replaced() then
    whole = true
    RECS[slot] = view.apply()
    if step_root == nil then step_whole = true end
  elseif track and step_root == nil then
    view.apply(root, STEP)
    for k in next, STEP do DIRTY[k] = true end
  else
    view.apply(root, DIRTY)
  end
end

-- The state's own part: its pipeline, then whether it ends here. Returns the view and
-- data to choose an arc with, or nil, nil and an outcome (END, PARALLEL / MAP: its
-- branches or items run next, WAIT: the record parks until its signal, or FAIL, name,
-- message).
local function run_state(S, slot, attempt, ename, emsg, estate, fallback)
  local view, data, name, message = enter(S, slot, attempt, ename, emsg, estate, fallback)
  if name then return nil, nil, FAIL, name, message end
  if S.parallel then
    commit(view, slot, false)
    return nil, nil, PARALLEL
  end
  if S.map then
    commit(view, slot, false)
    return nil, nil, MAP
  end
  if S.wait then
    commit(view, slot, false)
    return nil, nil, WAIT
  end
  if S.is_end or (S.end_test and S.end_test(data, user_ctx)) then
    commit(view, slot, false)
    return nil, nil, END
  end
  return view, data
end

-- A condition's second return value as the reason history and machines keep: a string,
-- or a number as text; anything else is no reason.
local function reason_text(why)
  local t = type(why)
  if t == "string" then return why end
  if t == "number" then return tostring(why) end
  return nil
end

-- `why`: the condition's second return value, recorded with the arc (as reason_text).
local function take(a, data, slot, view, why)
  transform(a.tf, a.tf_names, data, slot, view)
  commit(view, slot, a.push)
  if why ~= nil then why = reason_text(why) end
  return ARC, a.index, why
end

local function no_transition(S)
  return FAIL, "NoTransition", "no valid transition from state " .. S.name
end

-- Depth-first: runs state `sid` for the record in `slot`. Returns
--   END | ARC, arc index (0-based definition order), the condition's reason (or nil)
--   | FAIL, error name, message.
function M.step(sid, slot, attempt, ename, emsg, estate, fallback)
  local S = STATES[sid]
  local view, data, code, name, message = run_state(S, slot, attempt, ename, emsg, estate, fallback)
  if code then return code, name, message end
  local arcs = S.arcs
  local n = S.narcs
  if n == 0 then return no_transition(S) end
  local a = arcs[1]
  if a.when == nil then return take(a, data, slot, view) end
  local pass, why = a.when(data, user_ctx)
  if pass then return take(a, data, slot, view, why) end
  for i = 2, n do
    a = arcs[i]
    if a.when == nil then return take(a, data, slot, view) end
    pass, why = a.when(data, user_ctx)
    if pass then return take(a, data, slot, view, why) end
  end
  return no_transition(S)
end

-- Depth-first through several states in one call: after state `sid`, while its outcome
-- is a plain arc into a state that acquires no resources (plan.chain, by arc index) and
-- `budget` transitions remain, runs that state too. Returns step's outcome for the last
-- state run, then how many states it went on into (their ids are in M.chain; CHAIN[0]
-- counts them as it goes, for a call that raises). `observed`: history records steps,
-- so each arc taken is told to the host (M.set_step_hook) before the next state runs.
local CHAIN = {}
M.chain = CHAIN
local step_hook, hook_runner  -- M.set_step_hook

-- `hook`: the address of the runner's `void (void* runner, int to, const char* reason,
-- size_t length)`; `runner`: its first argument.
function M.set_step_hook(hook, runner)
  step_hook = ffi.cast("void (*)(void*, int, const char*, size_t)", hook)
  hook_runner = ffi.cast("void*", runner)
end

function M.step_chain(sid, slot, attempt, ename, emsg, estate, budget, observed)
  CHAIN[0] = 0
  local code, x, y = M.step(sid, slot, attempt, ename, emsg, estate)
  local n = 0
  while code == ARC and n < budget do
    local to = STATES[sid].chain[x]
    if to == nil then break end
    n = n + 1
    CHAIN[n] = to
    CHAIN[0] = n
    if observed then step_hook(hook_runner, to, y, y and #y or 0) end  -- y: take's reason
    sid = to
    code, x, y = M.step(sid, slot, 0)
  end
  return code, x, y, n
end

-- Breadth-first: like step, but every passing arc spawns a branch, each with its own
-- copy. Returns END | BRANCHES, n (OUT holds slot, arc index pairs) | FAIL, ...
-- The original slot is left as it was at entry; C++ frees it.
function M.step_all(sid, slot, attempt, ename, emsg, estate, deep)
  local S = STATES[sid]
  local view, data, code, name, message = run_state(S, slot, attempt, ename, emsg, estate)
  if code then return code, name, message end
  local passing = {}
  local arcs = S.arcs
  for i = 1, #arcs do
    local when = arcs[i].when
    if when == nil or when(data, user_ctx) then passing[#passing + 1] = arcs[i] end
  end
  if #passing == 0 then return FAIL, "NoTransition", "no valid transition from state " .. S.name end
  whole = true
  -- The state's result, committed into a new table so the entry data survives a
  -- failing arc transform below (the whole step then fails and rolls back).
  local committed = RECS[slot]
  if view then
    if view.replaced() then step_whole = true end
    committed = view.apply(shallow_copy(view.base()), track and STEP or nil)
  end
  -- History keeps the state's own changes; each branch's arc transforms are not in
  -- them (commit tracks nothing while step_root is set).
  if track then step_root = committed end
  clear(OUT)
  for i = 1, #passing do
    local a = passing[i]
    local root = (deep or view == nil) and deep_copy(committed) or shallow_copy(committed)
    local branch = alloc(root)
    OUT[#OUT + 1] = branch
    OUT[#OUT + 1] = a.index
    if #a.tf > 0 then
      local bview
      local bdata = root
      if view then
        bview = VIEWS[branch]
        if bview == nil then
          bview = new_view()
          VIEWS[branch] = bview
        end
        bview.open(root)
        bdata = bview.proxy
      end
      transform(a.tf, a.tf_names, bdata, branch, bview)
      commit(bview, branch, a.push)
    elseif a.push then
      SNAP[branch] = shallow_copy(root)
    end
  end
  return BRANCHES, #passing
end

function M.branch_out(i) return OUT[2 * i - 1], OUT[2 * i] end

-- ---------------------------------------------------------------------------------
-- Parallel states (statenet/parallel.lua).

require("statenet.parallel")(M, {
  STATES = STATES, RECS = RECS, ctx = ctx, user_ctx = user_ctx, array_mt = array_mt, deep_copy = deep_copy,
  fail_named = fail_named, open = open, commit = commit, take = take, no_transition = no_transition,
  mark_whole = function() whole = true end, END = END,
})

-- Map states' results (statenet/map.lua).
require("statenet.map")(M, { RECS = RECS, DIRTY = DIRTY, alloc = alloc })

-- The state pipeline, for the machine dispatcher (statenet/machine.lua), so that
-- machines run states exactly as records do. Its whole interface:
--   plan(sid)            the state's plan (define_state), with its machine arcs
--   record(slot)         the record a slot holds (its committed root)
--   open(S, slot)        a view of the slot's record for state S -> view, data
--   run_state(S, slot, attempt) the state's functions -> view, data, code, name, message
--   transform(tf, names, data, slot, view)  an arc's transforms -> data
--   commit(view, slot, snapshot)            the view's changes into the record
--   adopt(root)          a new slot holding `root` (a sub-network's caller, between events)
--   shallow_copy(t)
--   reason_text(why)     a condition's reason as kept, or nil
M.pipeline = {
  plan = function(sid) return STATES[sid] end,
  record = function(slot) return RECS[slot] end,
  adopt = alloc,
  open = open, run_state = run_state, transform = transform, commit = commit, shallow_copy = shallow_copy,
  reason_text = reason_text,
}

return M
