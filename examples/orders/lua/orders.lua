-- Order logic for examples/orders/orders.toml.
local M = {}

function M.has_id(data)
  if data.id == nil or data.id <= 0 then return false, "id must be a positive integer" end
end

function M.add_tax(data, ctx)
  data.total = math.floor(data.amount * (1 + ctx.vars.tax_rate) * 100 + 0.5) / 100
end

function M.is_big(data, ctx)
  return data.total >= ctx.vars.big_order
end

function M.tag_small(data)
  data.route = "standard"
end

function M.score_risk(data)
  data.risk = data.amount > 50 and "high" or "low"
end

function M.explain_rejection(data, ctx)
  data.rejected_because = ctx.error.name .. ": " .. ctx.error.message
  ctx.log.warn("order rejected", { id = data.id, reason = ctx.error.message })
end

return M
