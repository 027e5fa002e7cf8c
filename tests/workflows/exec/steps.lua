-- Functions used by tests/exec_test.cpp.
local M = {}

function M.add_a(data) data.trail = (data.trail or "") .. "a" end
function M.add_b(data) data.trail = (data.trail or "") .. "b" end
function M.add_c(data) data.trail = (data.trail or "") .. "c" end
function M.replace(data) return { replaced = true, old_id = data.id } end
function M.is_big(data) return data.amount >= 100 end
function M.always(data) return true end
function M.never(data) return false end
function M.count(data) data.n = (data.n or 0) + 1 end
function M.below_3(data) return data.n < 3 end
function M.reject(data) return false, "id must be positive" end
function M.field_errors(data) return { amount = "too large" } end
function M.mark_ran(data) data.transform_ran = true end
function M.boom(data)
  local x = nil
  return x.field  -- line 18: attempt to index a nil value
end
function M.named(data) error({ name = "PaymentDeclined", message = "card declined" }) end
-- Fails until ctx.attempt reaches data.succeed_on (retries so far).
function M.flaky(data, ctx)
  data.attempts_seen = (data.attempts_seen or "") .. ctx.attempt
  if ctx.attempt < data.succeed_on then error("flaky failure") end
end
function M.record_error(data, ctx)
  data.caught = ctx.error.name .. "|" .. ctx.error.message .. "|" .. ctx.error.state
end
function M.mutate_then_fail(data)
  data.amount = -1
  data.customer.name = "changed"
  data.extra = "added"
  data.id = nil
  error("after mutation")
end
function M.touch_nested(data) data.customer.tier = "gold" end
function M.child_work(data) data.child_value = (data.input or 0) * 2; data.secret = "child-only" end
function M.list_keys(data)
  local keys = {}
  for k in pairs(data) do keys[#keys + 1] = k end
  table.sort(keys)
  data.keys = table.concat(keys, ",")
end
function M.delete_id(data) data.id = nil end
function M.read_var(data, ctx) data.rate = ctx.vars.rate end
function M.write_var(data, ctx) ctx.vars.rate = 1 end
function M.list_vars(data, ctx)
  local keys = {}
  for k in pairs(ctx.vars) do keys[#keys + 1] = k end
  table.sort(keys)
  data.var_keys = table.concat(keys, ",")
  data.limit = ctx.vars.limits.max
  data.limits = ctx.vars.limits  -- a read-only view leaves Lua as a plain copy
end
function M.write_nested_var(data, ctx) ctx.vars.limits.max = 0 end
return M
