-- Tests of the pure parts under std.llm and std.api: std.json, std.template, std.schema,
-- and the factories' argument checks (the calls themselves run against the fake server
-- in tests/patterns_cli_test.sh).

print("testing std.json, std.template, std.schema, std.llm, std.api")

local json = require("std.json")
local template = require("std.template")
local schema = require("std.schema")
local llm = require("std.llm")
local api = require("std.api")
local support = require("test_support")
local factory_error = support.factory_error

-- std.json: sorted keys, integers without a fraction, escapes; and back.
assert(json.encode({ b = 1, a = { 1, 2.5, "x\n" }, c = true }) == '{"a":[1,2.5,"x\\n"],"b":1,"c":true}')
assert(json.encode({}) == "{}")
local back = json.decode('{"a": [1, -2.5e1, "\\u00e9\\"", null, false], "b": {}}')
assert(back.a[1] == 1 and back.a[2] == -25 and back.a[3] == 'é"' and back.a[5] == false)
assert(back.a[4] == statenet.null)
local ok, err = pcall(json.decode, '{"a": 1,}')
assert(not ok and err.name == "InvalidJson" and err.message:find("expected a key at byte 9", 1, true), err.message)
ok, err = pcall(json.decode, '[1] x')
assert(not ok and err.message:find("text after the value", 1, true))

-- std.template: dotted paths, scopes in order, tables as JSON, optional placeholders.
assert(template.render("Hi {{name}} ({{user.age}})", { name = "Ann", user = { age = 30 } }) == "Hi Ann (30)")
assert(template.render("{{tags}}", { tags = { "a", "b" } }) == '["a","b"]')
assert(template.render("{{x}}/{{vars.y}}", { scopes = { { x = 1 }, { vars = { y = "z" } } } }) == "1/z")
assert(template.render("[{{missing?}}]", {}) == "[]")
ok, err = pcall(template.render, "{{a}} {{b.c}}", {})
assert(not ok and err.name == "ValidationFailed" and err.message == "template: no value for {{a}}, {{b.c}}", err.message)

-- std.schema: types, required, bounds, enums, items, closed objects.
local check = schema.compile({
  type = "object", required = { "label", "score" }, additionalProperties = false,
  properties = {
    label = { type = "string", enum = { "spam", "ham" } },
    score = { type = "number", minimum = 0, maximum = 1 },
    tags = { type = "array", items = { type = "string" }, maxItems = 2 },
  },
})
assert(check({ label = "spam", score = 0.5, tags = { "a" } }) == nil)
assert(check({ label = "eggs", score = 2 }) == "$.label: 'eggs' is not one of the allowed values; $.score: 2 is above the maximum 1")
assert(check({ score = 0, tags = { "a", 1, "c" }, extra = true }) ==
  "$.extra: is not allowed; $.label: is required; $.tags: more than 2 items; $.tags[2]: expected string, got integer")
assert(check("text") == "$: expected object, got string")
assert(schema.compile({ type = { "integer", "null" } })(nil) == nil)
ok, err = pcall(schema.compile, { type = "object", propertys = {} })
assert(not ok)

-- The factories refuse bad args at load.
factory_error(llm.ask, {}, "std.llm.ask: 'prompt' is required")
factory_error(llm.ask, { prompt = "x", schema = { type = "objet" } }, "unknown type 'objet'")
factory_error(llm.prompt, { template = "x", examples = { { user = "u" } } }, "examples[1] must be")
factory_error(llm.validate, { field = "answer" }, "'schema' is required")
factory_error(api.call, { path = "/x", method = "FETCH" }, "unknown method 'FETCH'")
factory_error(api.call, { method = "GET" }, "'path' is required")
factory_error(api.run, { calls = { { path = "/a" } }, mode = "random" }, "unknown mode 'random'")
factory_error(api.aggregate, { op = "avg" }, "unknown op 'avg'")

-- std.llm.validate and std.api.aggregate on records.
local valid = llm.validate({ schema = { type = "object", required = { "x" } } })
assert(valid({ answer = { x = 1 } }) == true)
local passed, why = valid({ answer = {} })
assert(passed == false and why == "answer: $.x: is required")
local sum = api.aggregate({ from = "results", field = "price", op = "sum", into = "total" })
local record = { results = { { price = 1.5 }, { other = 1 }, { price = 3 } } }
sum(record, {})
assert(record.total == 4.5)
local count = api.aggregate({ from = "results", op = "count", into = "n" })
count(record, {})
assert(record.n == 3)
