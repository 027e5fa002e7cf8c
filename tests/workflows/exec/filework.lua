-- Functions for tests/files_test.cpp: the files resource from Lua.
local M = {}

-- Writes out/<id>.txt, reads it back through the stage, fails when data.fail.
function M.write(data, ctx)
  local path = "out/" .. data.id .. ".txt"
  ctx.resources.files:write(path, "record " .. data.id)
  data.seen = ctx.resources.files:read(path)
  data.exists = ctx.resources.files:exists(path)
  if data.fail then error("failed after the write") end
end

-- Appends a line to log.txt.
function M.append(data, ctx)
  ctx.resources.files:append("log.txt", data.id .. "\n")
end

-- Fails on the first attempt (after a write), succeeds on the retry with another write.
function M.flaky(data, ctx)
  if ctx.attempt == 0 then
    ctx.resources.files:write("attempt0.txt", "no")
    error("first attempt fails")
  end
  ctx.resources.files:write("attempt1.txt", "yes")
end

function M.list(data, ctx)
  data.listed = ctx.resources.files:list(data.glob)
end

function M.move_and_remove(data, ctx)
  local f = ctx.resources.files
  f:write("a.txt", "A")
  f:move("a.txt", "sub/b.txt")
  f:write("c.txt", "C")
  f:remove("c.txt")
  data.b = f:read("sub/b.txt")
  data.a_exists, data.c_exists = f:exists("a.txt"), f:exists("c.txt")
end

-- Tries path and returns the error's name and message.
function M.try_read(data, ctx)
  local ok, err = pcall(function()
    local text = ctx.resources.files:read(data.path)
    return text
  end)
  data.ok = ok
  if not ok then data.name, data.message = err.name, err.message end
end

function M.try_write(data, ctx)
  local ok, err = pcall(function() ctx.resources.files:write(data.path, "x") end)
  data.ok = ok
  if not ok then data.name, data.message = err.name, err.message end
end

-- Manual strategy: first.txt is committed, second.txt is left uncommitted.
function M.commit_then_write(data, ctx)
  ctx.resources.files:write("first.txt", "1")
  ctx.commit()
  ctx.resources.files:write("second.txt", "2")
end

return M
