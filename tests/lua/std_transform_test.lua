-- Tests of std.transform: transforms on plain tables and on a copy-mode view, data
-- errors, and the factories' argument checks.

print("testing std.transform")

local t = require("std.transform")

-- A copy-mode view like the engine's, and a view-aware global `pairs`, installed only
-- after the module was loaded.
local support = require("test_support")
local view, plain_pairs, factory_error = support.view, support.plain_pairs,
    support.factory_error
pairs = support.view_pairs

-- A plain deep copy of a table or a view.
local function plain(value)
    if type(value) ~= "table" then return value end
    local copy = {}
    for k, v in pairs(value) do copy[k] = plain(v) end
    return copy
end

local function show(value)
    if type(value) ~= "table" then return string.format("%q", tostring(value)) end
    local keys, parts = {}, {}
    for k in pairs(value) do keys[#keys + 1] = k end
    table.sort(keys, function(a, b) return tostring(a) < tostring(b) end)
    for _, k in ipairs(keys) do parts[#parts + 1] = tostring(k) .. "=" .. show(value[k]) end
    return "{" .. table.concat(parts, ",") .. "}"
end

local function same(a, b)
    return show(a) == show(b)
end

-- Runs transform `f` on a copy of `record` and on a view of it; both must give
-- `expected`, and the view must leave `record` itself untouched.
local function check(f, record, expected)
    local before = show(record)
    local direct = plain(record)
    local replaced = f(direct, {})
    local result = replaced or direct
    assert(same(result, expected), "expected " .. show(expected) .. ", got " .. show(result))
    local data = view(record)
    replaced = f(data, {})
    result = plain(replaced or data)
    assert(same(result, expected),
        "on a view: expected " .. show(expected) .. ", got " .. show(result))
    assert(show(record) == before, "the view's base was modified")
    return replaced
end

-- The named error `f` raises on `record`, as a plain table and as a view.
local function data_error(f, record, expected)
    for _, data in ipairs({ plain(record), view(record) }) do
        local ok, err = pcall(f, data, {})
        assert(not ok, "expected an error: " .. expected)
        assert(type(err) == "table" and err.name == "ValidationFailed",
            "expected a ValidationFailed error, got " .. show(err))
        assert(err.message == expected,
            "expected '" .. expected .. "', got '" .. tostring(err.message) .. "'")
    end
end

local function test_set()
    check(t.set{ field = "status", value = "new" }, { id = 1 }, { id = 1, status = "new" })
    check(t.set{ field = "status", value = "new" }, { status = "old" }, { status = "new" })
    check(t.set{ fields = { a = 1, ["b.c"] = "x", flag = false } }, { b = { d = 2 } },
        { a = 1, b = { c = "x", d = 2 }, flag = false })
    check(t.set{ fields = { ["x.y.z"] = 1 } }, {}, { x = { y = { z = 1 } } })
    -- a parent is set before its children
    check(t.set{ fields = { ["a.b"] = 2, a = { c = 1 } } }, {}, { a = { b = 2, c = 1 } })
    -- a table value is copied for each record
    local f = t.set{ field = "tags", value = { "a" } }
    local r1, r2 = {}, {}
    f(r1); f(r2)
    r1.tags[2] = "b"
    assert(#r2.tags == 1)
    data_error(t.set{ field = "customer.email", value = "x" }, { customer = "bob" },
        "customer.email: cannot reach the field, 'customer' is a string, not a table")
end

local function test_rename()
    check(t.rename{ from = "amt", to = "amount" }, { amt = 5, id = 1 }, { amount = 5, id = 1 })
    check(t.rename{ from = "amt", to = "amount" }, { id = 1 }, { id = 1 })
    check(t.rename{ from = "amt", to = "amount" }, { amt = 5, amount = 1 }, { amount = 5 })
    check(t.rename{ from = "customer.mail", to = "email" }, { customer = { mail = "m", n = 1 } },
        { customer = { n = 1 }, email = "m" })
    check(t.rename{ fields = { a = "b", b = "a" } }, { a = 1, b = 2 }, { a = 2, b = 1 })
    check(t.rename{ fields = { a = "x.a", b = "x.b" } }, { a = 1, b = 2, c = 3 },
        { x = { a = 1, b = 2 }, c = 3 })
end

local function test_map_fields()
    local f = t.map_fields{ map = { id = "order_id", ["customer.email"] = "email",
                                    zip = "addr.zip" } }
    local replaced = check(f, { id = 7, customer = { email = "e", name = "n" }, zip = "1", x = 0 },
        { order_id = 7, email = "e", addr = { zip = "1" } })
    assert(replaced ~= nil, "map_fields returns the new record")
    check(f, { x = 0 }, {})
    check(t.map_fields{ map = { id = "order_id" }, keep = true }, { id = 7, x = 0 },
        { order_id = 7, x = 0 })
end

local function test_remove()
    check(t.remove{ fields = { "tmp", "customer.secret", "missing", "a.b.c" } },
        { tmp = 1, id = 2, customer = { secret = "s", name = "n" }, a = "str" },
        { id = 2, customer = { name = "n" }, a = "str" })
    check(t.remove{ field = "id" }, { id = 1 }, {})
end

local function test_normalize()
    check(t.normalize{ fields = { "name", "n", "missing" } },
        { name = "  Ada  Lovelace \t\n", n = 5 }, { name = "Ada  Lovelace", n = 5 })
    check(t.normalize{ field = "email", lower = true }, { email = " A@B.C " }, { email = "a@b.c" })
    check(t.normalize{ field = "code", upper = true, trim = false }, { code = " ab " },
        { code = " AB " })
    check(t.normalize{ field = "s", collapse_spaces = true }, { s = "  a \t b\n\nc  " },
        { s = "a b c" })
    check(t.normalize{ field = "s" }, { s = " \t " }, { s = "" })
    check(t.normalize{ field = "c.s" }, { c = { s = " x " } }, { c = { s = "x" } })
end

local function test_convert()
    local f = t.convert{ fields = { amount = "number", id = "integer", flag = "boolean",
                                    code = "string" } }
    check(f, { amount = " 12.5 ", id = "42", flag = "Yes", code = 7 },
        { amount = 12.5, id = 42, flag = true, code = "7" })
    check(f, { amount = 3, id = 4, flag = false, code = "x" },
        { amount = 3, id = 4, flag = false, code = "x" })
    check(f, { amount = "-.5e1", id = "1e3", flag = 0, code = true },
        { amount = -5, id = 1000, flag = false, code = "true" })
    check(f, {}, {})
    -- a blank string is a missing value, except as a string
    check(f, { amount = "", id = " ", flag = "", code = "" }, { code = "" })
    check(t.convert{ fields = { code = "string" } }, { code = 0.1 }, { code = "0.1" })
    check(t.convert{ fields = { code = "string" } }, { code = 1e15 },
        { code = "1000000000000000" })
    check(t.convert{ fields = { ["a.b"] = "number" } }, { a = { b = "2" } }, { a = { b = 2 } })
    for word, value in pairs({ ["true"] = true, ["1"] = true, yes = true, TRUE = true,
                               ["false"] = false, ["0"] = false, no = false, No = false }) do
        check(t.convert{ fields = { flag = "boolean" } }, { flag = word }, { flag = value })
    end
    data_error(f, { amount = "abc" }, "amount: cannot convert 'abc' to number")
    for _, bad in ipairs({ "0x10", "inf", "nan", "1e400", "1,5", "1.2.3", ".", "-" }) do
        data_error(f, { amount = bad }, "amount: cannot convert '" .. bad .. "' to number")
    end
    data_error(f, { id = "1.5" }, "id: cannot convert '1.5' to integer")
    data_error(f, { id = 1.5 }, "id: cannot convert 1.5 to integer")
    data_error(f, { flag = "maybe" }, "flag: cannot convert 'maybe' to boolean")
    data_error(f, { flag = 2 }, "flag: cannot convert 2 to boolean")
    data_error(f, { code = {} }, "code: cannot convert a table to string")
    -- every failure is reported, and nothing is converted
    local record = { amount = "x", id = "7", flag = "?" }
    data_error(f, record, "amount: cannot convert 'x' to number; "
        .. "flag: cannot convert '?' to boolean")
    local ok = pcall(f, record)
    assert(not ok and record.id == "7", "a failed convert changed the record")
end

local function test_defaults()
    local f = t.defaults{ values = { status = "new", ["meta.source"] = "api", tags = {} } }
    check(f, {}, { status = "new", meta = { source = "api" }, tags = {} })
    check(f, { status = "paid", meta = { source = "csv" }, tags = { "a" } },
        { status = "paid", meta = { source = "csv" }, tags = { "a" } })
    check(f, { status = false }, { status = false, meta = { source = "api" }, tags = {} })
    check(f, { status = "" }, { status = "", meta = { source = "api" }, tags = {} })
end

-- A transform that changes nothing writes nothing, so a view records no change.
local function test_writes_only_changes()
    local record = { name = "x", n = 1, flag = true, c = { s = "y" } }
    local transforms = {
        t.normalize{ fields = { "name", "c.s" } },
        t.convert{ fields = { n = "number", flag = "boolean", name = "string" } },
        t.remove{ fields = { "gone", "c.gone", "d.gone" } },
        t.defaults{ values = { n = 2, ["c.s"] = "z" } },
        t.rename{ from = "gone", to = "name" },
    }
    for i, f in ipairs(transforms) do
        local data = view(record)
        f(data)
        for key, value in plain_pairs(getmetatable(data).view.changes) do
            local nested = getmetatable(value) and getmetatable(value).view
            assert(nested and next(nested.changes) == nil,
                "transform " .. i .. " wrote field " .. key)
        end
    end
end

local function test_factory_errors()
    factory_error(t.set, { value = 1 }, "std.transform.set: 'field' or 'fields' is required")
    factory_error(t.set, { field = "a" }, "std.transform.set: 'value' is required")
    factory_error(t.set, { field = "a", value = 1, fields = { b = 1 } }, "not both")
    factory_error(t.set, { fields = {} }, "'fields' must not be empty")
    factory_error(t.set, { fields = { 1 } }, "'fields' must be keyed by field names")
    factory_error(t.set, { field = ".a", value = 1 }, "'field' '.a' has an empty path segment")
    factory_error(t.set, { field = "a", valeu = 1 }, "unknown arg 'valeu'")
    factory_error(t.set, 5, "std.transform.set: args must be a table, got number")
    factory_error(t.rename, { from = "a" }, "std.transform.rename: 'to' is required")
    factory_error(t.rename, { to = "a" }, "'from' or 'fields' is required")
    factory_error(t.rename, { from = 1, to = "a" }, "'from' must be a non-empty string")
    factory_error(t.rename, { fields = { a = "c", b = "c" } }, "both map to 'c'")
    factory_error(t.rename, { fields = { a = 1 } },
        "each value of 'fields' must be a non-empty string")
    factory_error(t.map_fields, {}, "std.transform.map_fields: 'map' is required")
    factory_error(t.map_fields, { map = { a = "x", b = "x.y" } }, "targets 'x' and 'x.y' overlap")
    factory_error(t.map_fields, { map = { a = "x", b = "x.y", c = "x-y" } },
        "targets 'x' and 'x.y' overlap")
    factory_error(t.map_fields, { map = { a = "x" }, keep = "yes" }, "'keep' must be a boolean")
    factory_error(t.remove, {}, "std.transform.remove: 'field' or 'fields' is required")
    factory_error(t.remove, { fields = "a" }, "'fields' must be a non-empty list")
    factory_error(t.normalize, { field = "a", lower = true, upper = true }, "exclude each other")
    factory_error(t.normalize, { field = "a", trim = false }, "nothing to do")
    factory_error(t.convert, {}, "std.transform.convert: 'fields' is required")
    factory_error(t.convert, { fields = { a = "float" } }, "unknown type 'float' for 'a'")
    factory_error(t.defaults, {}, "std.transform.defaults: 'values' is required")
    factory_error(t.defaults, { values = "a" }, "'values' must be a table")
end

-- A factory error names the line of the factory's caller, as a Lua workflow would see it.
local function test_factory_error_position()
    local ok, err = pcall(function()
        local f = t.set{ field = "a" }  -- not a tail call, which would hide the line
        return f
    end)
    assert(not ok and err:find("std_transform_test%.lua:%d+: std%.transform%.set: "), err)
end

test_set()
test_rename()
test_map_fields()
test_remove()
test_normalize()
test_convert()
test_defaults()
test_writes_only_changes()
test_factory_errors()
test_factory_error_position()

print("OK")
