-- api-enrich: price an order line from the catalog API.
local M = {}

function M.price(data, ctx)
    local item = ctx.resources.catalog:get("/items/" .. data.item_id).json
    data.name = item.name
    data.unit_price = item.price
    data.total = item.price * data.qty
end

-- ctx.error says why the lookup failed; the line goes on without a price.
function M.mark_unpriced(data, ctx)
    data.unpriced = ctx.error.name
end

return M
