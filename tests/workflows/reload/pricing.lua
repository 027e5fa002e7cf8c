-- The logic that tests/reload_test.cpp changes on disk: version 1 doubles the amount.
local M = {}

function M.price(data)
  data.total = data.amount * 2
  data.logic = "v1"
end

function M.tax(data)
  data.total = data.total + 1
end

return M
