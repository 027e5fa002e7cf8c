-- Functions for the files examples.
local M = {}

-- An order's total from its quantity and unit price.
function M.priced(data)
  data.total = data.qty * data.price
end

-- batch: every product of the batch gets the batch's size (a stand-in for a bulk call).
function M.stamp_batch(data)
  local n = #data.items
  for i = 1, n do data.items[i].batch_of = n end
end

-- whole: the file's readings summarised in one record.
function M.summary(data)
  local n, sum, low, high = 0, 0, math.huge, -math.huge
  for i = 1, #data.records do
    local v = data.records[i].celsius
    n, sum = n + 1, sum + v
    low, high = math.min(low, v), math.max(high, v)
  end
  return { file = data.path:match("[^/]+$"), readings = n, mean = sum / n, low = low, high = high }
end

return M
