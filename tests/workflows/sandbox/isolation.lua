-- Functions that try to leave something behind for the next record (tests/sandbox_test.cpp).
local M = {}

function M.rawset_vars(data, ctx)
  pcall(rawset, ctx.vars, "x", data.id)
  pcall(table.insert, ctx.vars, data.id)
  data.x = ctx.vars.x
end

function M.set_ctx(data, ctx)
  local ok = pcall(function() ctx.vars = { x = data.id } end)
  data.ctx_writable = ok
  data.x = ctx.vars.x
end

function M.global(data)
  data.seen = seen_before
  seen_before = data.id
  rawset(_G, "raw_seen", raw_seen or data.id)
  data.raw_seen = raw_seen
end

function M.string_metatable(data)
  data.mt = tostring(getmetatable(""))
  pcall(function() getmetatable("").__index.upper = function() return "pwned" end end)
  pcall(function() string.upper = function() return "pwned" end end)
  data.upper = ("abc"):upper()
end

function M.record_view(data)
  data.before = rawget(data, "planted")
  rawset(data, "planted", data.id)
  data.view_mt = tostring(getmetatable(data))
  data.array_mt = tostring(getmetatable(statenet.array()))
end

return M
