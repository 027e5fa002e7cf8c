-- Functions for tests/sqlite_workflow_test.cpp: writes through ctx.resources.db.
local M = {}

function M.setup(data, ctx)
  ctx.resources.db.exec("CREATE TABLE IF NOT EXISTS orders (id INTEGER PRIMARY KEY, amount REAL, note TEXT)")
end

function M.save(data, ctx)
  ctx.resources.db.insert("orders", { id = data.id, amount = data.amount, note = data.note })
end

function M.save_then_fail(data, ctx)
  ctx.resources.db.insert("orders", { id = data.id, amount = data.amount })
  if data.fail then error("failed after the write") end
end

-- Writes, then fails on the first try: the retry must not write twice.
function M.flaky_write(data, ctx)
  ctx.resources.db:exec("INSERT INTO orders (id, amount) VALUES (?, ?)", data.id, ctx.attempt)
  if ctx.attempt == 0 then error("first try fails") end
end

function M.count(data, ctx)
  local rows = ctx.resources.db.query("SELECT count(*) AS n, sum(amount) AS total FROM orders")
  data.rows = rows[1].n
end

return M
