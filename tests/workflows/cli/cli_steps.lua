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

-- Busy work, so a stream runs long enough to be killed part-way (tests/stream_resume_test.sh).
function M.spin(data, ctx)
  local x = 0
  for i = 1, ctx.vars.spin do x = (x + i * data.id) % 1000003 end
  data.spun = x
end

return M
