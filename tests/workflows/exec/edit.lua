-- Functions for tests/process_json_test.cpp: changes, deletions and additions of fields.
local M = {}

function M.edit(data)
  if data.fail then error("asked to fail") end
  data.a = (data.a or 0) + 1
  data.d = nil
  data.z = "added"
  data.b2 = { 1, 2 }
  if data.n then data.n.x = "changed" end
end

return M
