-- std.validate: validator factories for workflow states (`validate`, `pre_validate`).
--
-- Each factory is called once at load with its args and returns `function(data, ctx)`,
-- which returns true to pass or `false, "<field>: <reason>"` to fail (reasons of
-- several fields are joined with "; "). Bad args raise at load, naming the factory.
--
-- `data` may be a copy-mode view (a proxy table): fields are read only by ordinary
-- indexing, and tables are walked only with the global `pairs`, looked up at call time
-- because the engine installs a view-aware `pairs` after this module may have loaded.
-- Field names are dotted paths ("customer.email") through nested tables.

local type, tostring = type, tostring
local floor = math.floor
local byte, format, concat, sort = string.byte, string.format, table.concat, table.sort

local util = require("std.util")
local is_integer, is_list = util.is_integer, util.is_list
local arg_error, factory, opt_type = util.arg_error, util.factory, util.opt_type
local get = util.get

local M = {}

-- Values ------------------------------------------------------------------------------

-- Returns n if t is a sequence t[1..n] with no other keys (an empty table is one).
local function array_length(t)
    local n, max = 0, 0
    for key in pairs(t) do
        if type(key) ~= "number" or key < 1 or key ~= floor(key) then return nil end
        n = n + 1
        if key > max then max = key end
    end
    if n == max then return n end
    return nil
end

local function show(value)
    if type(value) == "number" and value ~= value then
        return "NaN"  -- tostring gives "nan" or "-nan" depending on the platform
    end
    return util.show(value)
end

-- "string 'abc'", "number 1.5", "nil", "table", "array"
local function describe(value)
    local kind = type(value)
    if kind == "table" then
        local n = array_length(value)
        return (n and n > 0) and "array" or "table"
    elseif kind == "nil" then
        return "nil"
    end
    return kind .. " " .. show(value)
end

local function show_list(values)
    local shown = {}
    for i = 1, #values do shown[i] = show(values[i]) end
    return concat(shown, ", ")
end

-- Field paths -------------------------------------------------------------------------

-- A name that is not a non-empty string is described with its type in the error.
local function parse_path(name, what)
    return util.parse_path(name, what, describe)
end

local function field_paths(args)
    return util.field_paths(args, describe)
end

-- Building validators -----------------------------------------------------------------

-- A validator over `checks`, a list of { path, test, required }: `test(value)` returns
-- nil when a present value passes, or the reason it fails. A missing (nil) field fails
-- with "is required" when `required`, and passes otherwise. Nothing is allocated unless
-- a field fails.
local function validator(checks, message)
    if #checks == 1 then
        local path, test, required = checks[1].path, checks[1].test, checks[1].required
        local prefix = path.name .. ": "
        return function(data)
            local value = get(data, path)
            local reason
            if value == nil then
                if not required then return true end
                reason = "is required"
            else
                reason = test(value)
                if reason == nil then return true end
            end
            return false, prefix .. (message or reason)
        end
    end
    return function(data)
        local failures
        for i = 1, #checks do
            local check = checks[i]
            local value = get(data, check.path)
            local reason
            if value == nil then
                if check.required then reason = "is required" end
            else
                reason = check.test(value)
            end
            if reason ~= nil then
                failures = failures or {}
                failures[#failures + 1] = check.path.name .. ": " .. (message or reason)
            end
        end
        if failures == nil then return true end
        return false, concat(failures, "; ")
    end
end

local function same_checks(args, test, required)
    local checks = {}
    for i, path in ipairs(field_paths(args)) do
        checks[i] = { path = path, test = test, required = required }
    end
    return validator(checks, opt_type(args, "message", "string"))
end

local function optional_flag(args)
    return opt_type(args, "required", "boolean") or false
end

-- Factories ---------------------------------------------------------------------------

-- An empty string fails `required`, as in most form validators; a string of spaces
-- passes (trim it first with std.transform.normalize).
local function not_empty(value)
    if value == "" then return "must not be empty" end
end

M.required = factory("std.validate.required", { "field", "fields", "message" },
    function(args)
        return same_checks(args, not_empty, true)
    end)

local type_tests = {
    string = function(value) return type(value) == "string" end,
    number = function(value) return type(value) == "number" end,
    integer = is_integer,
    boolean = function(value) return type(value) == "boolean" end,
    table = function(value) return type(value) == "table" end,
    array = function(value)
        return type(value) == "table" and array_length(value) ~= nil
    end,
}
local TYPE_NAMES = "string, number, integer, boolean, table, array"

-- "number?" is an optional number.
local function type_check(path, spec)
    local name, optional = spec, false
    if type(spec) == "string" and spec:sub(-1) == "?" then
        name, optional = spec:sub(1, -2), true
    end
    local is_type = type(name) == "string" and type_tests[name]
    if not is_type then
        arg_error("unknown type %s for '%s' (known: %s, each optionally ending in '?')",
            show(spec), path.name, TYPE_NAMES)
    end
    local expected = "expected " .. name .. ", got "
    return {
        path = path,
        required = not optional,
        test = function(value)
            if not is_type(value) then return expected .. describe(value) end
        end,
    }
end

M.type = factory("std.validate.type", { "field", "type", "fields", "message" },
    function(args)
        local checks = {}
        if args.fields ~= nil then
            if args.field ~= nil or args.type ~= nil then
                arg_error("give either 'field' and 'type', or 'fields', not both")
            end
            if type(args.fields) ~= "table" then
                arg_error("'fields' must be a table of { field = \"type\" }")
            end
            local names = {}
            for name in pairs(args.fields) do
                if type(name) ~= "string" then
                    arg_error("'fields' must map field names to types, got key %s",
                        show(name))
                end
                names[#names + 1] = name
            end
            if #names == 0 then arg_error("'fields' must not be empty") end
            sort(names)  -- failures are reported in a stable order
            for i, name in ipairs(names) do
                checks[i] = type_check(parse_path(name, "each key of 'fields'"),
                    args.fields[name])
            end
        else
            if args.field == nil then arg_error("'field' or 'fields' is required") end
            if args.type == nil then arg_error("'type' is required") end
            checks[1] = type_check(parse_path(args.field, "'field'"), args.type)
        end
        return validator(checks, opt_type(args, "message", "string"))
    end)

M.range = factory("std.validate.range",
    { "field", "fields", "min", "max", "exclusive", "required", "message" },
    function(args)
        local min = opt_type(args, "min", "number")
        local max = opt_type(args, "max", "number")
        local exclusive = opt_type(args, "exclusive", "boolean") or false
        if min == nil and max == nil then arg_error("'min' or 'max' is required") end
        if min and max and (min > max or (exclusive and min == max)) then
            arg_error("'min' (%s) must be below 'max' (%s)", show(min), show(max))
        end
        local function test(value)
            if type(value) ~= "number" or value ~= value then
                return "expected a number, got " .. describe(value)
            end
            if min then
                if exclusive and value <= min then
                    return format("%s is not above the minimum %s (exclusive)",
                        show(value), show(min))
                elseif value < min then
                    return format("%s is below the minimum %s", show(value), show(min))
                end
            end
            if max then
                if exclusive and value >= max then
                    return format("%s is not below the maximum %s (exclusive)",
                        show(value), show(max))
                elseif value > max then
                    return format("%s is above the maximum %s", show(value), show(max))
                end
            end
        end
        return same_checks(args, test, optional_flag(args))
    end)

M.pattern = factory("std.validate.pattern",
    { "field", "fields", "pattern", "required", "message" },
    function(args)
        local pattern = opt_type(args, "pattern", "string")
        if pattern == nil then arg_error("'pattern' is required") end
        local ok, err = pcall(string.find, "", pattern)
        if not ok then
            arg_error("invalid Lua pattern %s: %s", show(pattern), tostring(err))
        end
        local find = string.find
        local reason = " does not match the pattern " .. show(pattern)
        local function test(value)
            if type(value) ~= "string" then
                return "expected a string, got " .. describe(value)
            end
            if not find(value, pattern) then return show(value) .. reason end
        end
        return same_checks(args, test, optional_flag(args))
    end)

M.enum = factory("std.validate.enum",
    { "field", "fields", "values", "required", "message" },
    function(args)
        local values = args.values
        if type(values) ~= "table" or #values == 0 or not is_list(values) then
            arg_error("'values' must be a non-empty list")
        end
        local allowed = {}
        for i = 1, #values do
            local kind = type(values[i])
            if kind ~= "string" and kind ~= "number" and kind ~= "boolean"
                or values[i] ~= values[i] then
                arg_error("'values' may hold strings, numbers and booleans, got %s",
                    describe(values[i]))
            end
            allowed[values[i]] = true
        end
        local reason = " is not one of " .. show_list(values)
        local function test(value)
            if not allowed[value] then return show(value) .. reason end
        end
        return same_checks(args, test, optional_flag(args))
    end)

-- Length in characters of a UTF-8 string: the bytes that do not continue a sequence
-- (a byte loop, which LuaJIT compiles, unlike pattern matching).
local function utf8_length(s)
    local n = #s
    for i = 1, #s do
        local b = byte(s, i)
        if b >= 0x80 and b < 0xC0 then n = n - 1 end
    end
    return n
end

M.length = factory("std.validate.length",
    { "field", "fields", "min", "max", "required", "message" },
    function(args)
        local min = opt_type(args, "min", "number")
        local max = opt_type(args, "max", "number")
        if min == nil and max == nil then arg_error("'min' or 'max' is required") end
        for _, key in ipairs({ "min", "max" }) do
            if args[key] and not (is_integer(args[key]) and args[key] >= 0) then
                arg_error("'%s' must be a non-negative integer, got %s", key,
                    show(args[key]))
            end
        end
        if min and max and min > max then
            arg_error("'min' (%s) must not be above 'max' (%s)", show(min), show(max))
        end
        local function test(value)
            local n
            if type(value) == "string" then
                n = utf8_length(value)
            elseif type(value) == "table" then
                n = array_length(value)
            end
            if n == nil then
                return "expected a string or an array, got " .. describe(value)
            elseif min and n < min then
                return format("length %d is below the minimum %d", n, min)
            elseif max and n > max then
                return format("length %d is above the maximum %d", n, max)
            end
        end
        return same_checks(args, test, optional_flag(args))
    end)

return M
