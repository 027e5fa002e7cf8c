-- Reads statenet.params once, when the module loads.
local limit = statenet.params.limit
local M = {}
function M.stamp(data, ctx)
  data.limit = limit
  data.tag_count = #ctx.vars.tags
end
return M
