-- Functions of notes.toml: a vector store and a files root from a stream.
local M = {}

function M.note(data, ctx)
  ctx.resources.vec:add(data.id, data.v, { parity = data.id % 2 })
  ctx.resources.out:append("log/" .. (data.id % 2) .. ".txt", data.id .. "\n")
  if data.id == 5 then error("five fails") end
end

function M.ask(data, ctx)
  local hits = ctx.resources.vec:search(data.query, 2, data.filter)
  data.ids = hits[1].id .. " " .. hits[2].id
  data.query = nil
end

return M
