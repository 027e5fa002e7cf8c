-- Functions used by the workflows of tests/cli_test.sh.
local M = {}

function M.stamp(data, ctx)
  data.label = ctx.vars.label
  data.factor_type = type(ctx.vars.factor)
  data.scaled = data.amount * ctx.vars.factor
end

function M.positive_amount(data)
  if data.amount < 0 then return false, "amount must not be negative" end
end

function M.is_big(data) return data.amount >= 100 end

function M.review(data) data.reviewed = true end

function M.scribble_then_fail(data)
  data.scribbled = true
  error("failed after writing")
end

return M
