-- statenet strategies: the runtime's side of the states' recovery strategies
-- (docs/recovery.md) — the result cache's lookups and stores, and compensations. The
-- rest (breakers, bulkheads, deadlines, fallbacks) is C++ around a step
-- (src/exec/strategies.cpp). Installed into statenet.runtime by it.

local type, next = type, next

-- `M`: the runtime module; `rt`: STATES, ctx, user_ctx, deep_copy and open (a slot's
-- record as a state's functions see it).
return function(M, rt)
local STATES, ctx, user_ctx, deep_copy, open = rt.STATES, rt.ctx, rt.user_ctx, rt.deep_copy, rt.open

-- C++ closures over the workflow's SQLite cache, set when some state caches
-- (Runner::set_strategies): get(state id, key) -> changes | nil; put(state id, key, changes).
local cache_get, cache_put
function M.set_cache(get, put) cache_get, cache_put = get, put end

local function same(a, b)
  if a == b then return true end
  if type(a) ~= "table" or type(b) ~= "table" then return false end
  for k, v in next, a do
    if not same(v, b[k]) then return false end
  end
  for k in next, b do
    if a[k] == nil then return false end
  end
  return true
end

-- A cached result is what the state changed, top-level field by field:
-- { set = { field = value }, removed = { field, ... } }.
local function changes_between(entry, out)
  local set, removed = {}, {}
  for k, v in next, out do
    if not same(entry[k], v) then set[k] = v end
  end
  for k in next, entry do
    if out[k] == nil then removed[#removed + 1] = k end
  end
  return { set = set, removed = removed }
end

local S = {}

-- Before state P's functions: its key (the `cache_key` fields of the data it was
-- entered with, or all of it) and a plain copy of that data; or, on a hit, nil after
-- applying the cached changes to `data`.
function S.lookup(P, data)
  local entry = deep_copy(M.materialize(data))
  local key = entry
  local fields = P.cache_key
  if #fields > 0 then
    key = {}
    for i = 1, #fields do key[fields[i]] = entry[fields[i]] end
  end
  local hit = cache_get(P.id, key)
  if hit == nil then return key, entry end
  for k, v in next, hit.set or {} do data[k] = v end
  local removed = hit.removed or {}
  for i = 1, #removed do data[removed[i]] = nil end
  return nil
end

-- After state P's functions succeeded: what they changed, stored under `key`.
function S.store(P, key, entry, data)
  cache_put(P.id, key, changes_between(entry, deep_copy(M.materialize(data))))
end

-- A failed record's saga: state `sid`'s compensation functions, on the record as it
-- stands, with ctx.error the failure. Changes they make to the data are not kept.
function M.compensate(sid, slot, ename, emsg, estate)
  local P = STATES[sid]
  ctx.state = P.name
  ctx.network = P.network
  ctx.attempt = 0
  ctx.error = { name = ename, message = emsg, state = estate }
  local _, data = open(P, slot)
  local list = P.compensate
  for i = 1, list.n do list[i](data, user_ctx) end
end

return S
end
