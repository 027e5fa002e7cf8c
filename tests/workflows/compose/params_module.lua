-- Reads statenet.params once, when the module loads.
local limit = statenet.params.limit
local M = {}
function M.stamp(data, ctx)
  data.limit = limit
  -- ctx.vars is a read-only proxy, which `#` does not see through in LuaJIT.
  local n = 0
  while ctx.vars.tags[n + 1] ~= nil do n = n + 1 end
  data.tag_count = n
end
return M
