-- Functions used by the workflows under tests/workflows/load/.
local M = {}

function M.is_big(data) return data.amount >= 100 end
function M.tag(data) data.tagged = true end

return M
