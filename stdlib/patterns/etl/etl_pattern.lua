-- std:etl's functions: the load-time mode check and the default transform and filter.
local M = {}

local implemented = { append = true, upsert = true }
local planned = { full_refresh = true, incremental = true }

-- Factory: checked once at load, so a bad mode stops the run before it reads a row.
function M.check_mode(args)
  if planned[args.mode] then
    error("etl mode '" .. args.mode .. "' is not implemented in this version (use append or upsert)")
  end
  if not implemented[args.mode] then
    error("unknown etl mode '" .. tostring(args.mode) .. "' (expected append or upsert)")
  end
  if args.mode == "upsert" and args.key == "" then error("etl mode 'upsert' needs the key param") end
  if args.mode == "append" and args.key ~= "" then error("etl mode 'append' takes no key (use upsert)") end
  return function() return true end
end

function M.keep() end

function M.every_row() return true end

return M
