-- std.util: internal helpers shared by std.transform and std.validate; not a public API.
--
-- Factory argument checks, dotted field paths and value formatting. `data` may be a
-- copy-mode view (a proxy table): it is read only by ordinary indexing, and tables are
-- walked only with the global `pairs`, looked up at call time because the engine
-- installs a view-aware `pairs` after this module may have loaded.

local type, tostring = type, tostring
local setmetatable, getmetatable = setmetatable, getmetatable
local floor, huge = math.floor, math.huge
local format, concat = string.format, table.concat

local M = {}

-- Values ------------------------------------------------------------------------------

-- A value as shown in messages: 'string' (cut after 40 bytes), "a table", or tostring.
function M.show(value)
    if type(value) == "string" then
        if #value > 40 then
            -- cut on a UTF-8 character boundary
            value = value:sub(1, 37):gsub("[\192-\255][\128-\191]*$", "") .. "..."
        end
        return "'" .. value .. "'"
    elseif type(value) == "table" then
        return "a table"
    end
    return tostring(value)
end

function M.is_integer(value)
    return type(value) == "number" and value == floor(value) and value > -huge
        and value < huge
end

-- Factory arguments -------------------------------------------------------------------

local ARG_ERROR = {}  -- metatable marking errors about a factory's args

local function arg_error(fmt, ...)
    error(setmetatable({ message = format(fmt, ...) }, ARG_ERROR))
end
M.arg_error = arg_error

local function check_and_build(known, accepted, build, args)
    for key in pairs(args) do
        if not known[key] then
            arg_error("unknown arg %s (accepted: %s)", M.show(key), accepted)
        end
    end
    return build(args)
end

-- Wraps `build(args)` so that an arg error is raised as "<name>: <message>" at the
-- factory's caller, and an unknown arg is an error rather than a silently ignored typo.
function M.factory(name, accepted, build)
    local known = {}
    for _, key in ipairs(accepted) do known[key] = true end
    accepted = concat(accepted, ", ")
    return function(args)
        if args == nil then args = {} end
        if type(args) ~= "table" then
            error(format("%s: args must be a table, got %s", name, type(args)), 2)
        end
        local ok, result = pcall(check_and_build, known, accepted, build, args)
        if ok then return result end
        if getmetatable(result) == ARG_ERROR then
            error(name .. ": " .. result.message, 2)
        end
        error(result, 0)
    end
end

-- args[key], which must be nil or of type `expected`.
function M.opt_type(args, key, expected)
    local value = args[key]
    if value ~= nil and type(value) ~= expected then
        arg_error("'%s' must be a %s, got %s", key, expected, type(value))
    end
    return value
end

function M.is_list(t)
    local n = 0
    for _ in pairs(t) do n = n + 1 end
    return n == #t
end

-- Field paths -------------------------------------------------------------------------

-- `describe` shows a name that is not a non-empty string in the error (default: show).
local function parse_path(name, what, describe)
    if type(name) ~= "string" or name == "" then
        arg_error("%s must be a non-empty string, got %s", what,
            (describe or M.show)(name))
    end
    local keys = {}
    for key in (name .. "."):gmatch("(.-)%.") do
        if key == "" then arg_error("%s '%s' has an empty path segment", what, name) end
        keys[#keys + 1] = key
    end
    return { name = name, keys = keys, n = #keys, last = keys[#keys] }
end
M.parse_path = parse_path

function M.get(data, path)
    local keys = path.keys
    local value = data[keys[1]]
    for i = 2, path.n do
        if type(value) ~= "table" then return nil end
        value = value[keys[i]]
    end
    return value
end

-- Writes `value` at `path`, creating the missing tables on the way (a non-table on
-- the way is overwritten by one).
function M.put(data, path, value)
    local t = data
    for i = 1, path.n - 1 do
        if type(t[path.keys[i]]) ~= "table" then t[path.keys[i]] = {} end
        t = t[path.keys[i]]
    end
    t[path.last] = value
end

-- The items of a list by index: a read-only table (ctx.vars) or a view answers
-- indexing, not ipairs.
function M.each(list)
    local i = 0
    return function()
        i = i + 1
        local v = list[i]
        if v ~= nil then return i, v end
    end
end

-- A plain deep copy of a table read through pairs (ctx.vars' tables are read-only
-- views that next and ipairs do not see into).
function M.plain(v)
    if type(v) ~= "table" then return v end
    local t = {}
    for k, x in pairs(v) do t[k] = M.plain(x) end
    return t
end

-- The paths named by `field = "x"` or `fields = { "x", "y" }`; `describe` as in
-- parse_path.
function M.field_paths(args, describe)
    local field, fields = args.field, args.fields
    if field ~= nil and fields ~= nil then
        arg_error("give either 'field' or 'fields', not both")
    elseif field ~= nil then
        return { parse_path(field, "'field'", describe) }
    elseif fields == nil then
        arg_error("'field' or 'fields' is required")
    elseif type(fields) ~= "table" or #fields == 0 or not M.is_list(fields) then
        arg_error("'fields' must be a non-empty list of field names")
    end
    local paths = {}
    for i = 1, #fields do
        paths[i] = parse_path(fields[i], "each of 'fields'", describe)
    end
    return paths
end

return M
