-- std.transform: transform factories for workflow states and arcs (`transform`).
--
-- Each factory is called once at load with its args and returns `function(data, ctx)`,
-- which mutates `data` and returns nil (map_fields without `keep` returns a new table,
-- which replaces the record). Bad args raise at load, naming the factory; data that
-- cannot be transformed raises error({ name = "ValidationFailed", message = ... }).
--
-- `data` may be a copy-mode view (a proxy table): fields are read and written only by
-- ordinary indexing, and a field is written only when its value changes, so a view
-- records no needless change. Field names are dotted paths ("customer.email") through
-- nested tables; writing one creates the missing tables on the way.

local type, tostring, tonumber = type, tostring, tonumber
local huge = math.huge
local byte, format, concat, sort = string.byte, string.format, table.concat, table.sort

local util = require("std.util")
local show, is_integer = util.show, util.is_integer
local arg_error, factory, opt_type = util.arg_error, util.factory, util.opt_type
local parse_path, get, field_paths = util.parse_path, util.get, util.field_paths

local M = {}

-- Values ------------------------------------------------------------------------------

local function data_error(fmt, ...)
    error({ name = "ValidationFailed", message = format(fmt, ...) })
end

-- Factory arguments -------------------------------------------------------------------

local function opt_boolean(args, key, default)
    local value = opt_type(args, key, "boolean")
    if value == nil then return default end
    return value
end

-- Copies the nested tables of a value given in args, so records never share them.
local function deep_copy(value)
    if type(value) ~= "table" then return value end
    local copy = {}
    for k, v in pairs(value) do copy[k] = deep_copy(v) end
    return copy
end

-- Field paths -------------------------------------------------------------------------

-- The table holding the path's last key, or nil if there is none on the way. With
-- `create` the missing tables are added, and a non-table on the way is a data error.
local function parent_of(data, path, create)
    local t, keys = data, path.keys
    for i = 1, path.n - 1 do
        local child = t[keys[i]]
        if child == nil then
            if not create then return nil end
            t[keys[i]] = {}
            child = t[keys[i]]  -- a copy-mode view may hand back its own wrapper
        elseif type(child) ~= "table" then
            if not create then return nil end
            data_error("%s: cannot reach the field, '%s' is a %s, not a table", path.name,
                concat(keys, ".", 1, i), type(child))
        end
        t = child
    end
    return t
end

local function set(data, path, value)
    local parent = parent_of(data, path, value ~= nil)
    if parent ~= nil and parent[path.last] ~= value then parent[path.last] = value end
end

-- The entries of a `{ path = value }` map as a list of { path, value } sorted by path,
-- so that a parent ("a") is handled before its children ("a.b").
local function path_map(map, what)
    if type(map) ~= "table" then
        arg_error("'%s' must be a table of { field = ... }", what)
    end
    local names = {}
    for name in pairs(map) do
        if type(name) ~= "string" then
            arg_error("'%s' must be keyed by field names, got key %s", what, show(name))
        end
        names[#names + 1] = name
    end
    if #names == 0 then arg_error("'%s' must not be empty", what) end
    sort(names)
    local entries = {}
    for i, name in ipairs(names) do
        entries[i] = { path = parse_path(name, "each key of '" .. what .. "'"),
                       value = map[name] }
    end
    return entries
end

-- Factories ---------------------------------------------------------------------------

-- Table values are copied for each record, so that no two records share one.
local function assign(entries)
    return function(data)
        for i = 1, #entries do
            set(data, entries[i].path, deep_copy(entries[i].value))
        end
    end
end

M.set = factory("std.transform.set", { "field", "value", "fields" }, function(args)
    if args.fields ~= nil then
        if args.field ~= nil or args.value ~= nil then
            arg_error("give either 'field' and 'value', or 'fields', not both")
        end
        local entries = path_map(args.fields, "fields")
        for _, entry in ipairs(entries) do entry.value = deep_copy(entry.value) end
        return assign(entries)
    end
    if args.field == nil then arg_error("'field' or 'fields' is required") end
    if args.value == nil then
        arg_error("'value' is required (std.transform.remove deletes a field)")
    end
    return assign({ { path = parse_path(args.field, "'field'"),
                      value = deep_copy(args.value) } })
end)

M.defaults = factory("std.transform.defaults", { "values" }, function(args)
    if args.values == nil then arg_error("'values' is required") end
    local entries = path_map(args.values, "values")
    for _, entry in ipairs(entries) do entry.value = deep_copy(entry.value) end
    return function(data)
        for i = 1, #entries do
            local entry = entries[i]
            if get(data, entry.path) == nil then
                set(data, entry.path, deep_copy(entry.value))
            end
        end
    end
end)

-- The list of { from, to } paths of `from`/`to` or of a `{ from = "to" }` map.
local function moves(map, what)
    local entries, seen = path_map(map, what), {}
    for _, entry in ipairs(entries) do
        local to = entry.value
        entry.from, entry.to = entry.path, parse_path(to, "each value of '" .. what .. "'")
        if seen[to] then
            arg_error("'%s' and '%s' both map to '%s'", seen[to], entry.from.name, to)
        end
        seen[to] = entry.from.name
    end
    return entries
end

-- Moves every field at once, so { a = "b", b = "a" } swaps them. A missing source
-- leaves its target untouched; an existing target is overwritten.
local function mover(entries)
    if #entries == 1 then
        local from, to = entries[1].from, entries[1].to
        return function(data)
            local value = get(data, from)
            if value ~= nil then
                set(data, from, nil)
                set(data, to, value)
            end
        end
    end
    local values = {}  -- scratch, reused: a VM runs one function at a time
    return function(data)
        for i = 1, #entries do
            local value = get(data, entries[i].from)
            values[i] = value
            if value ~= nil then set(data, entries[i].from, nil) end
        end
        for i = 1, #entries do
            if values[i] ~= nil then
                set(data, entries[i].to, values[i])
                values[i] = nil
            end
        end
    end
end

M.rename = factory("std.transform.rename", { "from", "to", "fields" }, function(args)
    if args.fields ~= nil then
        if args.from ~= nil or args.to ~= nil then
            arg_error("give either 'from' and 'to', or 'fields', not both")
        end
        return mover(moves(args.fields, "fields"))
    end
    if args.from == nil then arg_error("'from' or 'fields' is required") end
    if args.to == nil then arg_error("'to' is required") end
    return mover({ { from = parse_path(args.from, "'from'"),
                     to = parse_path(args.to, "'to'") } })
end)

M.map_fields = factory("std.transform.map_fields", { "map", "keep" }, function(args)
    if args.map == nil then arg_error("'map' is required") end
    local entries = moves(args.map, "map")
    if opt_boolean(args, "keep", false) then return mover(entries) end
    -- writing "a" then "a.b" would write into the record's own table "a"
    local targets = {}
    for _, entry in ipairs(entries) do targets[entry.to.name] = true end
    for _, entry in ipairs(entries) do
        local keys = entry.to.keys
        for n = 1, #keys - 1 do
            local parent = concat(keys, ".", 1, n)
            if targets[parent] then
                arg_error("targets '%s' and '%s' overlap", parent, entry.to.name)
            end
        end
    end
    return function(data)
        local result = {}
        for i = 1, #entries do
            local value = get(data, entries[i].from)
            if value ~= nil then set(result, entries[i].to, value) end
        end
        return result
    end
end)

M.remove = factory("std.transform.remove", { "field", "fields" }, function(args)
    local paths = field_paths(args)
    return function(data)
        for i = 1, #paths do set(data, paths[i], nil) end
    end
end)

local function is_space(b)  -- the bytes of %s
    return b == 32 or (b and b >= 9 and b <= 13)
end

-- Leading and trailing whitespace removed, in linear time; the byte checks spare the
-- common case, a string with none, from pattern matching, which LuaJIT cannot compile.
local function trim(s)
    if not is_space(byte(s, 1)) and not is_space(byte(s, -1)) then return s end
    local from = s:match("^%s*()")
    if from > #s then return "" end
    return s:match(".*%S", from)
end

M.normalize = factory("std.transform.normalize",
    { "field", "fields", "trim", "lower", "upper", "collapse_spaces" },
    function(args)
        local paths = field_paths(args)
        local trimmed = opt_boolean(args, "trim", true)
        local lower = opt_boolean(args, "lower", false)
        local upper = opt_boolean(args, "upper", false)
        local collapse = opt_boolean(args, "collapse_spaces", false)
        if lower and upper then arg_error("'lower' and 'upper' exclude each other") end
        if not (trimmed or lower or upper or collapse) then
            arg_error("nothing to do: every option is false")
        end
        local function normalize(s)
            if collapse then s = s:gsub("%s+", " ") end
            if trimmed then s = trim(s) end
            if lower then s = s:lower() elseif upper then s = s:upper() end
            return s
        end
        return function(data)
            for i = 1, #paths do
                local value = get(data, paths[i])
                if type(value) == "string" then set(data, paths[i], normalize(value)) end
            end
        end
    end)

-- Decimal notation only ("12", "-1.5", ".5", "1e3"): no hex, inf or nan.
local function parse_decimal(s)
    s = trim(s)
    local mantissa = s:match("^[-+]?([%d.]*)[eE][-+]?%d+$") or s:match("^[-+]?([%d.]*)$")
    if mantissa == nil or not mantissa:find("%d") or mantissa:find("%..*%.") then
        return nil
    end
    local n = tonumber(s)
    if n == huge or n == -huge then return nil end
    return n
end

local BOOLEANS = { ["true"] = true, ["yes"] = true, ["1"] = true,
                   ["false"] = false, ["no"] = false, ["0"] = false }

-- Each converter returns the converted value, or nil when it cannot convert, or
-- nil, true for an empty or blank string, which becomes nil (the field is removed) as
-- an empty CSV cell is a missing value.
local converters = {
    number = function(value)
        if type(value) == "number" then return value end
        if type(value) == "string" then
            if trim(value) == "" then return nil, true end
            return parse_decimal(value)
        end
    end,
    integer = function(value)
        if type(value) == "string" then
            if trim(value) == "" then return nil, true end
            value = parse_decimal(value)
        end
        if type(value) == "number" and is_integer(value) then return value end
    end,
    boolean = function(value)
        if type(value) == "boolean" then return value end
        if type(value) == "number" then
            if value == 1 then return true elseif value == 0 then return false end
        elseif type(value) == "string" then
            local word = trim(value):lower()
            if word == "" then return nil, true end
            return BOOLEANS[word]
        end
    end,
    string = function(value)
        if type(value) == "string" then return value end
        if type(value) == "boolean" then return tostring(value) end
        if type(value) == "number" then
            -- whole numbers without an exponent; others in 14 significant digits, or 17
            -- where 14 would not read back as the same number
            if is_integer(value) and value > -2^63 and value < 2^63 then
                return format("%d", value)
            end
            local s = format("%.14g", value)
            if tonumber(s) ~= value then s = format("%.17g", value) end
            return s
        end
    end,
}
local CONVERTER_NAMES = "number, integer, boolean, string"

-- Converts every field or none: all failures are reported in one error.
M.convert = factory("std.transform.convert", { "fields" }, function(args)
    if args.fields == nil then arg_error("'fields' is required") end
    local entries = path_map(args.fields, "fields")
    for _, entry in ipairs(entries) do
        entry.convert = converters[entry.value]
        if not entry.convert then
            arg_error("unknown type %s for '%s' (known: %s)", show(entry.value),
                entry.path.name, CONVERTER_NAMES)
        end
    end
    local converted = {}  -- scratch, reused: a VM runs one function at a time
    local function fail(data)
        local failures = {}
        for i = 1, #entries do
            local entry = entries[i]
            local value = get(data, entry.path)
            local result, blank
            if value ~= nil then result, blank = entry.convert(value) end
            if value ~= nil and result == nil and not blank then
                failures[#failures + 1] = format("%s: cannot convert %s to %s",
                    entry.path.name, show(value), entry.value)
            end
            converted[i] = nil
        end
        data_error("%s", concat(failures, "; "))
    end
    return function(data)
        for i = 1, #entries do
            local value = get(data, entries[i].path)
            if value ~= nil then
                local result, blank = entries[i].convert(value)
                if result == nil and not blank then fail(data) end
                converted[i] = result
            else
                converted[i] = nil
            end
        end
        for i = 1, #entries do
            set(data, entries[i].path, converted[i])  -- writes only what changed
            converted[i] = nil
        end
    end
end)

return M
