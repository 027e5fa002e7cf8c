-- The record logic of this project: std:files calls these by the names files.toml gives.
local M = {}

-- Transform: the gross price from the net one (change `data`, or return a new table).
function M.with_vat(data)
  data.gross = math.floor(data.net * 1.2 * 100 + 0.5) / 100
end

-- Filter: records for which this is false are skipped (counted as excluded).
function M.in_stock(data)
  return data.stock > 0
end

return M
