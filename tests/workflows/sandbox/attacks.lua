-- Things workflow code must not be able to do, each as a transform (tests/sandbox_test.cpp).
local M = {}

function M.exit() os.exit(7) end
function M.ffi_cast() local ffi = require("ffi"); return { v = ffi.cast("int*", 0)[0] } end
function M.io_open() io.open("/etc/passwd") end
function M.execute() os.execute("true") end
function M.getenv() return { home = os.getenv("HOME") } end
function M.loadlib() package.loadlib("libc.so.6", "puts") end
function M.debug_registry() debug.getregistry() end
function M.dump() string.dump(M.dump) end
function M.method_dump() return { code = ("").dump(M.dump) } end
function M.bytecode() assert(loadstring("\27LJ\2"))() end
function M.jit_off() jit.off() end
function M.getfenv() return { env = getfenv(ctx_log) } end
function M.internal() require("statenet.runtime") end
function M.collect() collectgarbage("stop") end

-- What stays: text chunks, the allowed libraries, and os.time.
function M.allowed(data)
  local f = assert(loadstring("return 6 * 7"))
  data.answer = f()
  data.upper = ("abc"):upper()
  data.floor = math.floor(2.5)
  data.band = bit.band(6, 3)
  data.time = type(os.time())
  data.count = type(collectgarbage("count"))
  data.ok = pcall(error, "x") == false
end

return M
