-- The project's own row logic for std:etl: field mapping, conversion and the filter.
local M = {}

-- Cents to a decimal price; a row without a price is rejected with its reason.
function M.to_warehouse(data)
  if data.price_cents == nil or data.price_cents == statenet.null then
    error({ name = "ValidationFailed", message = "product " .. tostring(data.id) .. " has no price" })
  end
  return { id = data.id, name = string.upper(data.name), price = data.price_cents / 100, stock = data.stock }
end

function M.in_stock(data) return data.stock > 0 end

return M
