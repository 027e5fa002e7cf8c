-- statenet map: a map state's results set into the record at their path. Installed into
-- statenet.runtime by it (M.put); the runner runs the items (src/exec/map_state.cpp).

local select = select

return function(M, rt)
local RECS, mark_whole = rt.RECS, rt.mark_whole

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
  mark_whole()
end
end
