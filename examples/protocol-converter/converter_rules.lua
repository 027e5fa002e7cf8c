-- The protocol converter's supervisor logic: its desired children, its health check and
-- how a `configure` event changes its settings.
local M = {}

-- One connection and one data flow per configured flow; the templates are rendered
-- (strictly) by the supervisor with the converter's variables.
function M.children(data, ctx)
  local specs = {
    { name = "connection", workflow = "connection",
      spec = { address = "{{ user.host }}:{{ user.port }}", region = "{{ global.region }}" },
      state_map = { running = "up", stopped = "down" } },
  }
  for _, flow in ipairs(data.flows or {}) do
    specs[#specs + 1] = {
      name = "flow-" .. flow,
      workflow = "flow",
      spec = { topic = "umh/{{ global.region }}/{{ user.site }}/" .. flow,
               connection = "{{ internal.id }}/connection" },
      state_map = { running = "active", stopped = "idle", degraded = "idle" },
    }
  end
  return specs
end

-- The broker the flows write to: while it is down the breaker opens and the children
-- are left alone.
function M.health(data)
  if data.broker_up == false then return false, "broker unreachable" end
  return true
end

function M.configure(data, ctx)
  for k, v in pairs(ctx.event or {}) do data[k] = v end
  return data
end

return M
