-- Functions that run into the limits (tests/sandbox_test.cpp).
local M = {}

function M.loop(data) if data.loop then while true do end end data.done = true end
function M.swallow(data)
  if data.loop then
    while true do pcall(function() while true do end end) end
  end
  data.done = true
end
function M.recurse(data)
  local function f(n) return f(n + 1) end
  if data.loop then f(1) end
  data.done = true
end
function M.bomb(data)
  if data.bomb then local s = "x" while true do s = s .. s end end
  data.done = true
end
function M.list_bomb(data)
  if data.bomb then local l while true do l = { next = l, pad = "" .. #tostring(l) } end end
  data.done = true
end

return M
