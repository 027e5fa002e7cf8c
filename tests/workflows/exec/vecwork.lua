-- Functions for tests/vector_test.cpp: the vector resource from Lua.
local M = {}

-- Adds data.id with data.vec (and data.meta), then reports the store's size.
function M.add(data, ctx)
  ctx.resources.vec:add(data.id, data.vec, data.meta)
  data.count = ctx.resources.vec:count()
end

-- Searches data.vec for data.k hits (filter data.filter); keeps ids and scores.
function M.search(data, ctx)
  local hits = ctx.resources.vec:search(data.vec, data.k, data.filter)
  local ids, scores, metas = {}, {}, {}
  for i, hit in ipairs(hits) do
    ids[i], scores[i] = hit.id, hit.score
    metas[i] = hit.meta and hit.meta.cat or false
  end
  data.ids, data.scores, data.cats = ids, scores, metas
end

function M.remove(data, ctx)
  data.removed = ctx.resources.vec:remove(data.id)
  data.count = ctx.resources.vec:count()
end

-- Catches the error of a call with a wrong-length vector and keeps its name and message.
function M.bad_dim(data, ctx)
  local ok, err = pcall(function() ctx.resources.vec:add("x", { 1, 2 }) end)
  data.ok = ok
  data.name, data.message = err.name, err.message
end

-- Raises the error of a call with a bad id (the record fails with it).
function M.bad_id(data, ctx)
  ctx.resources.vec:add({}, data.vec)
end

return M
