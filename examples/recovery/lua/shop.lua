-- recovery: the shop's steps and what undoes them (examples/recovery/recovery.toml).
local M = {}

local function key(what, data) return "/kv/" .. what .. "-" .. data.order end

function M.quote(data, ctx)
  data.unit_price = ctx.resources.shop:get("/items/" .. data.item_id).json.price
end

-- fallback: ctx.error says why the quote failed.
function M.list_price(data, ctx)
  data.unit_price = data.list_price
  data.estimated = ctx.error.name
end

function M.total(data)
  data.total = data.unit_price * data.qty
end

function M.reserve(data, ctx)
  ctx.resources.shop:put(key("stock", data), { body = tostring(data.qty) })
end

function M.release(data, ctx)
  ctx.resources.shop:delete(key("stock", data))
end

function M.charge(data, ctx)
  ctx.resources.shop:put(key("charge", data), { body = tostring(data.total) })
  data.charged = data.total
end

function M.refund(data, ctx)
  ctx.resources.shop:delete(key("charge", data))
  ctx.log.info("refunded order " .. data.order, { reason = ctx.error.message })
end

function M.ship(data)
  if not data.address then error({ name = "NoAddress", message = "order " .. data.order .. " has no address" }) end
  data.shipped_to = data.address
end

function M.notify(data, ctx)
  ctx.resources.shop:get("/down")
  data.notified = true
end

function M.notify_later(data, ctx)
  data.notified = false
  data.notify_error = ctx.error.name
end

return M
