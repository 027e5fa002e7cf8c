-- A module with a Lua syntax error on line 6 (where Lua notices it), used by broken_module.toml.
local M = {}

function M.check(data)
  return data.amount >
end

return M
