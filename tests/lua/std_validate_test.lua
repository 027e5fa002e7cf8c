-- Tests of std.validate: passing and failing records, on plain tables and on a
-- copy-mode view, and the factories' argument checks.

print("testing std.validate")

local v = require("std.validate")

-- A copy-mode view like the engine's, and a view-aware global `pairs`, installed only
-- after the module was loaded.
local support = require("test_support")
local view, factory_error = support.view, support.factory_error
pairs = support.view_pairs

-- Runs validator `f` on `record` as a plain table and as a view; both must agree.
local function check(f, record)
    local ok, why = f(record, {})
    local view_ok, view_why = f(view(record), {})
    assert(ok == view_ok and why == view_why,
        "view disagrees: " .. tostring(why) .. " / " .. tostring(view_why))
    return ok, why
end

local function passes(f, record)
    local ok, why = check(f, record)
    assert(ok == true, "expected a pass, got: " .. tostring(why))
end

local function fails(f, record, expected)
    local ok, why = check(f, record)
    assert(ok == false, "expected a failure")
    assert(why == expected, "expected '" .. expected .. "', got '" .. tostring(why) .. "'")
end

local function test_required()
    local f = v.required{ fields = { "id", "customer.email" } }
    passes(f, { id = 1, customer = { email = "a@b.c" } })
    passes(f, { id = 0, customer = { email = " " } })  -- blanks are present
    fails(f, { customer = { email = "a@b.c" } }, "id: is required")
    fails(f, { id = 1, customer = { email = "" } }, "customer.email: must not be empty")
    fails(f, { id = 1, customer = "x" }, "customer.email: is required")
    fails(f, {}, "id: is required; customer.email: is required")
    local flag = v.required{ field = "flag" }
    passes(flag, { flag = false })  -- false is a value
    fails(flag, {}, "flag: is required")
    fails(v.required{ field = "id", message = "an order needs an id" }, {},
        "id: an order needs an id")
end

local function test_type()
    local f = v.type{ field = "id", type = "integer" }
    passes(f, { id = 3 })
    fails(f, { id = 3.5 }, "id: expected integer, got number 3.5")
    fails(f, { id = "3" }, "id: expected integer, got string '3'")
    fails(f, { id = 1 / 0 }, "id: expected integer, got number inf")
    fails(f, {}, "id: is required")
    local g = v.type{ fields = { name = "string", amount = "number?", tags = "array?",
                                 ["meta.on"] = "boolean?", meta = "table?" } }
    passes(g, { name = "n" })
    passes(g, { name = "n", amount = 2.5, tags = { "a", "b" }, meta = { on = true } })
    passes(g, { name = "n", tags = {} })  -- an empty table is an array
    fails(g, { name = "n", tags = { a = 1 } }, "tags: expected array, got table")
    fails(g, { name = "n", tags = { "a", nil, "c" } }, "tags: expected array, got table")
    fails(g, { name = "n", meta = { on = "yes" } },
        "meta.on: expected boolean, got string 'yes'")
    -- failures in field name order; an array is a table too
    fails(g, { name = 1, amount = "2", meta = { 1, 2 } },
        "amount: expected number, got string '2'; name: expected string, got number 1")
end

local function test_range()
    local f = v.range{ field = "amount", min = 0, max = 100 }
    passes(f, { amount = 0 })
    passes(f, { amount = 100 })
    passes(f, {})  -- missing is not out of range
    fails(f, { amount = 250 }, "amount: 250 is above the maximum 100")
    fails(f, { amount = -0.5 }, "amount: -0.5 is below the minimum 0")
    fails(f, { amount = "5" }, "amount: expected a number, got string '5'")
    fails(f, { amount = 0 / 0 }, "amount: expected a number, got number NaN")
    local e = v.range{ field = "ratio", min = 0, max = 1, exclusive = true, required = true }
    passes(e, { ratio = 0.5 })
    fails(e, { ratio = 0 }, "ratio: 0 is not above the minimum 0 (exclusive)")
    fails(e, { ratio = 1 }, "ratio: 1 is not below the maximum 1 (exclusive)")
    fails(e, {}, "ratio: is required")
    local nested = v.range{ fields = { "a.x", "b" }, min = 10 }
    fails(nested, { a = { x = 1 }, b = 2 },
        "a.x: 1 is below the minimum 10; b: 2 is below the minimum 10")
end

local function test_pattern()
    local f = v.pattern{ field = "email", pattern = "^[^@%s]+@[^@%s]+$" }
    passes(f, { email = "a@b.c" })
    passes(f, {})
    fails(f, { email = "a b@c" }, "email: 'a b@c' does not match the pattern '^[^@%s]+@[^@%s]+$'")
    fails(f, { email = 42 }, "email: expected a string, got number 42")
    local unanchored = v.pattern{ field = "code", pattern = "%d%d", required = true }
    passes(unanchored, { code = "ab12cd" })
    fails(unanchored, {}, "code: is required")
    local long = string.rep("x", 50)
    fails(unanchored, { code = long },
        "code: '" .. string.rep("x", 37) .. "...' does not match the pattern '%d%d'")
end

local function test_enum()
    local f = v.enum{ field = "status", values = { "new", "paid", 3, true } }
    passes(f, { status = "paid" })
    passes(f, { status = 3 })
    passes(f, { status = true })
    passes(f, {})
    fails(f, { status = "PAID" }, "status: 'PAID' is not one of 'new', 'paid', 3, true")
    fails(f, { status = "3" }, "status: '3' is not one of 'new', 'paid', 3, true")
    fails(f, { status = {} }, "status: a table is not one of 'new', 'paid', 3, true")
end

local function test_length()
    local f = v.length{ field = "name", min = 2, max = 4 }
    passes(f, { name = "ab" })
    passes(f, { name = "été!" })  -- characters, not bytes
    passes(f, { name = { 1, 2, 3 } })
    passes(f, {})
    fails(f, { name = "a" }, "name: length 1 is below the minimum 2")
    fails(f, { name = "abcde" }, "name: length 5 is above the maximum 4")
    fails(f, { name = { 1, 2, 3, 4, 5 } }, "name: length 5 is above the maximum 4")
    fails(f, { name = { a = 1 } }, "name: expected a string or an array, got table")
    fails(f, { name = 12 }, "name: expected a string or an array, got number 12")
    fails(v.length{ field = "tags", min = 1, required = true }, { tags = {} },
        "tags: length 0 is below the minimum 1")
end

local function test_factory_errors()
    factory_error(v.range, { min = 0 }, "std.validate.range: 'field' or 'fields' is required")
    factory_error(v.range, { field = "a" }, "std.validate.range: 'min' or 'max' is required")
    factory_error(v.range, { field = "a", min = "0" }, "'min' must be a number, got string")
    factory_error(v.range, { field = "a", min = 5, max = 1 }, "'min' (5) must be below 'max' (1)")
    factory_error(v.range, { field = "a", mim = 0 }, "unknown arg 'mim' (accepted: field,")
    factory_error(v.range, "amount", "std.validate.range: args must be a table, got string")
    factory_error(v.required, nil, "std.validate.required: 'field' or 'fields' is required")
    factory_error(v.required, { field = "a", fields = { "b" } }, "not both")
    factory_error(v.required, { fields = {} }, "'fields' must be a non-empty list")
    factory_error(v.required, { field = "a..b" }, "'field' 'a..b' has an empty path segment")
    factory_error(v.required, { field = "" }, "'field' must be a non-empty string")
    factory_error(v.type, { field = "a" }, "std.validate.type: 'type' is required")
    factory_error(v.type, { field = "a", type = "float" }, "unknown type 'float' for 'a'")
    factory_error(v.type, { fields = { a = "int?" } }, "unknown type 'int?' for 'a'")
    factory_error(v.type, { fields = {} }, "'fields' must not be empty")
    factory_error(v.pattern, { field = "a" }, "std.validate.pattern: 'pattern' is required")
    factory_error(v.pattern, { field = "a", pattern = "%" }, "invalid Lua pattern '%'")
    factory_error(v.pattern, { field = "a", pattern = "[a" }, "invalid Lua pattern '[a'")
    factory_error(v.enum, { field = "a" }, "std.validate.enum: 'values' must be a non-empty list")
    factory_error(v.enum, { field = "a", values = { x = 1 } }, "'values' must be a non-empty list")
    factory_error(v.enum, { field = "a", values = { {} } },
        "may hold strings, numbers and booleans")
    factory_error(v.length, { field = "a", min = -1 },
        "'min' must be a non-negative integer, got -1")
    factory_error(v.length, { field = "a", max = 1.5 }, "'max' must be a non-negative integer")
    factory_error(v.length, { field = "a", min = 3, max = 2 },
        "'min' (3) must not be above 'max' (2)")
    factory_error(v.range, { field = "a", min = 0, message = 1 }, "'message' must be a string")
    factory_error(v.range, { field = "a", min = 0, required = "yes" },
        "'required' must be a boolean")
end

-- A factory error names the line of the factory's caller, as a Lua workflow would see it.
local function test_factory_error_position()
    local ok, err = pcall(function()
        local f = v.range{ field = "a" }  -- not a tail call, which would hide the line
        return f
    end)
    assert(not ok and err:find("std_validate_test%.lua:%d+: std%.validate%.range: "), err)
end

local function test_ctx_is_optional()
    assert(v.required{ field = "a" }({ a = 1 }) == true)
end

test_required()
test_type()
test_range()
test_pattern()
test_enum()
test_length()
test_factory_errors()
test_factory_error_position()
test_ctx_is_optional()

print("OK")
