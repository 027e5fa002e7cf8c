-- Functions of the execution history tests (tests/history_test.cpp, tests/history_cli_test.sh).
local M = {}

function M.stamp(data) data.stamped = true end
-- Fails on the first attempt only, with a named error a retrier matches.
function M.flaky(data, ctx)
  if ctx.attempt == 0 then error({ name = "Flaky", message = "first try fails" }) end
  data.tries = ctx.attempt + 1
end
function M.positive(data)
  if data.amount < 0 then return false, "amount must not be negative" end
end
function M.note_error(data, ctx) data.rejected = ctx.error.name end

return M
