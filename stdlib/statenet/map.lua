-- statenet map: a map state's results set into the record at their path, and records
-- that ran on other VMs taken into slots (concurrent parallel branches). Installed into
-- statenet.runtime by it (M.put, M.adopt); the runner runs the items and branches
-- (src/exec/map_state.cpp, src/exec/parallel.cpp).

local select = select

return function(M, rt)
local RECS, DIRTY, alloc = rt.RECS, rt.DIRTY, rt.alloc

-- A new slot holding `root` (a branch's record that ran on another VM), for the join.
function M.adopt(root) return alloc(root) end

-- Sets `value` at the path ... (field names) of the record in `slot`, making the tables
-- on the way (a field on the way that is not a table is replaced by one).
function M.put(slot, value, ...)
  local n = select("#", ...)
  local t = RECS[slot]
  for i = 1, n - 1 do
    local k = select(i, ...)
    local v = t[k]
    if type(v) ~= "table" then
      v = {}
      t[k] = v
    end
    t = v
  end
  t[select(n, ...)] = value
  DIRTY[(...)] = true  -- the output rewrites this field and copies the others as they came
end
end
