-- std:etl's functions: the load-time check of the params, the default transform and
-- filter, and the run report.
local M = {}

local modes = { append = true, upsert = true, full_refresh = true, incremental = true }
local kinds = { sqlite = true, postgres = true }

-- Factory: checked once at load, so a bad combination stops the run before it reads a row.
function M.check_params(args)
  if not modes[args.mode] then
    error("unknown etl mode '" .. tostring(args.mode) .. "' (expected append, upsert, full_refresh or incremental)")
  end
  if args.mode == "upsert" and args.key == "" then error("etl mode 'upsert' needs the key param") end
  if args.mode == "append" and args.key ~= "" then error("etl mode 'append' takes no key (use upsert)") end
  if args.mode == "incremental" and args.watermark == "" then
    error("etl mode 'incremental' needs the watermark param (the column whose highest loaded value is kept)")
  end
  if args.mode ~= "incremental" and args.watermark ~= "" then
    error("the watermark param is for etl mode 'incremental', not '" .. args.mode .. "'")
  end
  for _, side in ipairs({ "source_type", "target_type" }) do
    if not kinds[args[side]] then
      error("etl " .. side .. " '" .. tostring(args[side]) .. "' is not sqlite or postgres")
    end
  end
  return function() return true end
end

function M.keep() end

function M.every_row() return true end

-- The map's counts as the run report: rows read (resumed ones included), written,
-- filtered out, rejected, and, for incremental runs, the watermark now stored.
function M.report(data, ctx)
  local counts = data.report
  data.report = {
    mode = ctx.params.mode,
    read = counts.total,
    written = counts.emitted,
    excluded = counts.excluded,
    rejected = counts.failed,
    resumed = counts.resumed,
    watermark = counts.watermark,
  }
end

return M
