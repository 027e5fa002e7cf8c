-- statenet parallel: a parallel state's join (the branches' records merged into the
-- record) and its routing after the join. Installed into statenet.runtime by it
-- (M.join, M.route); the runner runs the branches themselves (src/exec/parallel.cpp).

local type, next, select, pcall, error, rawget = type, next, select, pcall, error, rawget
local getmetatable = debug.getmetatable

-- `M`: the runtime module; `rt`: the runtime's internals the join and route need.
return function(M, rt)
local STATES, RECS, ctx, user_ctx, array_mt = rt.STATES, rt.RECS, rt.ctx, rt.user_ctx, rt.array_mt
local deep_copy, fail_named, open, commit, take, no_transition, mark_whole =
  rt.deep_copy, rt.fail_named, rt.open, rt.commit, rt.take, rt.no_transition, rt.mark_whole
local END = rt.END


local function same(a, b)
  if a == b then return true end
  if type(a) ~= "table" or type(b) ~= "table" then return false end
  for k, v in next, a do
    if not same(v, rawget(b, k)) then return false end
  end
  for k in next, b do
    if rawget(a, k) == nil then return false end
  end
  return true
end

-- What branch record `from` changed from `base` (the record at the fork), applied to
-- `into`: fields set or changed, nested objects merged field by field, fields removed.
local function merge_changes(into, base, from)
  for k, v in next, from do
    local old = rawget(base, k)
    if type(v) == "table" and type(old) == "table" and getmetatable(v) ~= array_mt and getmetatable(old) ~= array_mt then
      local target = rawget(into, k)
      if type(target) ~= "table" then
        target = deep_copy(old)
        into[k] = target
      end
      merge_changes(target, old, v)
    elseif not same(v, old) then
      into[k] = v
    end
  end
  for k in next, base do
    if rawget(from, k) == nil then into[k] = nil end
  end
end

-- Joins the branches' records (slots ..., in branch order, named by S.parallel.names)
-- into the record in `slot` and frees their slots. Merge modes: namespaced (each branch's
-- record under its network's name), deep (what each branch changed, merged into the
-- record in branch order), fn (a function (data, ctx) returning the record, with the
-- branches' records in ctx.branches by network name).
function M.join(sid, slot, ...)
  local S = STATES[sid]
  local p = S.parallel
  local n = select("#", ...) / 2
  local results = {}
  for i = 1, n do
    local name = p.names[select(i, ...)]
    results[name] = RECS[select(n + i, ...)] or {}
  end
  local root = RECS[slot]
  if p.mode == "namespaced" then
    for name, rec in next, results do root[name] = rec end
  elseif p.mode == "deep" then
    local base = deep_copy(root)
    for i = 1, n do merge_changes(root, base, results[p.names[select(i, ...)]]) end
  else
    ctx.branches = results
    local ok, merged = pcall(p.fn, deep_copy(root), user_ctx)
    ctx.branches = nil
    if not ok then error(merged, 0) end
    if type(merged) ~= "table" then
      fail_named("ParallelFailed", "merge function " .. p.fn_name .. " returned " .. type(merged) .. ", not a table")
    end
    RECS[slot] = merged
  end
  mark_whole()
  for i = 1, n do M.free(select(n + i, ...)) end
end

-- `[branches]`: the join of a breadth-first record's branches ({ mode, fn, fn_name }).
local BRANCH_JOIN
function M.define_branch_join(plan) BRANCH_JOIN = plan end

-- Joins a breadth-first record's finished branches (names ..., then slots ..., in branch
-- order) into one record in slot `into`, from `base` (the record as it came in, a table
-- of its own): the same merge modes as a parallel state, branches named by their end
-- state. The branches' slots are left to the end of the run.
function M.join_branches(into, base, ...)
  local p = BRANCH_JOIN
  local n = select("#", ...) / 2
  local results = {}
  for i = 1, n do results[select(i, ...)] = RECS[select(n + i, ...)] or {} end
  local root = base
  if p.mode == "namespaced" then
    for name, rec in next, results do root[name] = rec end
  elseif p.mode == "deep" then
    local before = deep_copy(base)
    for i = 1, n do merge_changes(root, before, results[select(i, ...)]) end
  else
    ctx.branches = results
    local ok, merged = pcall(p.fn, root, user_ctx)
    ctx.branches = nil
    if not ok then error(merged, 0) end
    if type(merged) ~= "table" then
      fail_named("ParallelFailed", "merge function " .. p.fn_name .. " returned " .. type(merged) .. ", not a table")
    end
    root = merged
  end
  RECS[into] = root
  mark_whole()
end

-- After a parallel state's join: whether it ends here, else its arc, as M.step decides.
function M.route(sid, slot)
  local S = STATES[sid]
  local view, data = open(S, slot)
  if S.is_end or (S.end_test and S.end_test(data, user_ctx)) then
    commit(view, slot, false)
    return END
  end
  for i = 1, S.narcs do
    local a = S.arcs[i]
    if a.when == nil then return take(a, data, slot, view) end
    local pass, why = a.when(data, user_ctx)
    if pass then return take(a, data, slot, view, why) end
  end
  return no_transition(S)
end
end
