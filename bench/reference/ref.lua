-- The reference benchmark's logic, shared by statenet (reference.toml) and baseline A.
-- Every function has the statenet contract f(data, ctx).
local M = {}

local type, floor, find, upper = type, math.floor, string.find, string.upper

function M.valid_id(data)
  local id = data.id
  if type(id) ~= "number" or id <= 0 or id % 1 ~= 0 then
    return false, "id must be a positive integer"
  end
  return true
end

function M.valid_amount(data)
  local amount = data.amount
  if type(amount) ~= "number" or amount < 0 then return false, "amount must be a number >= 0" end
  return true
end

function M.valid_email(data)
  local email = data.email
  if type(email) ~= "string" or not find(email, "^[%w._+-]+@[%w.-]+%.%a+$") then
    return false, "email is not an address"
  end
  return true
end

function M.add_tax(data, ctx)
  data.amount_with_tax = floor(data.amount * (1 + ctx.vars.tax_rate) * 100 + 0.5) / 100
end

function M.upper_country(data)
  data.country = upper(data.country)
end

function M.is_big(data, ctx)
  return data.amount_with_tax >= ctx.vars.big_amount
end

return M
