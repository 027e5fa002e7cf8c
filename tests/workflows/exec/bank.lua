-- Functions for tests/reference_test.cpp: reference-mode records (rows of `accounts`).
local M = {}

function M.credit(data, ctx)
  local balance = data.balance
  -- The host's log callback can hold this run here while another one commits.
  ctx.log.info("read", { balance = balance, attempt = ctx.attempt })
  data.balance = balance + ctx.vars.amount
  data.attempts = ctx.attempt
end

function M.rename(data, ctx) data.owner = string.upper(data.owner) end

function M.nothing() end

function M.count_fields(data, ctx)
  local n = 0
  for _ in pairs(data) do n = n + 1 end
  data.seen = n
end

return M
