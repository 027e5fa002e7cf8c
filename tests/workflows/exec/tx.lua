-- Functions for tests/transactions_test.cpp: writes under each transaction strategy.
local M = {}

function M.save(data, ctx)
  ctx.resources.db.insert("items", { id = data.id })
  if data.fail then error("failed after the write") end
end

-- Manual strategy: `a` is committed, `b` is left uncommitted.
function M.commit_then_write(data, ctx)
  ctx.resources.db.insert("items", { id = data.id })
  ctx.commit()
  ctx.resources.db.insert("items", { id = data.id + 1000 })
end

-- Manual strategy: the first write is rolled back, the second committed.
function M.rollback_then_commit(data, ctx)
  ctx.resources.db.insert("items", { id = data.id })
  ctx.rollback()
  ctx.resources.db.insert("items", { id = data.id + 1000 })
  ctx.commit()
end

return M
