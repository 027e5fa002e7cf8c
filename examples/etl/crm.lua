-- Row logic for the customers ETL: field mapping and the test-account filter.
local M = {}

function M.normalise(data)
  if data.email == nil or data.email == statenet.null then
    error({ name = "ValidationFailed", message = "customer " .. data.id .. " has no e-mail" })
  end
  return { id = data.id, name = data.name, email = string.lower(data.email), country = data.country or "??" }
end

function M.real_customer(data) return not data.email:find("@example%.test$") end

return M
