-- statenet supervisor, Lua side: derives a supervising instance's desired children
-- (its state's `children` function), renders their templates strictly and diffs them
-- against what was last applied, so that C++ (src/supervise/) only sees the changes.
-- Also runs `[supervision] health`. Driven by src/supervise/supervise_vm.cpp.

local type, pairs, ipairs, tostring, getmetatable = type, pairs, ipairs, tostring, getmetatable
local find, match = string.find, string.match
local raw_pairs = require("statenet.records").raw_pairs

-- pairs for the specs' tables: a plain table (no metatable: no view, record or
-- read-only proxy to see through) is walked with the raw pairs, without the global
-- wrapper's look-ups; a tick walks some 700 of them for 100 children.
local function each(t)
  if getmetatable(t) == nil then return raw_pairs(t) end
  return pairs(t)
end

local M = {}

local FNS          -- the workflow's resolved functions (registry "statenet.functions")
local GLOBAL = {}  -- ctx.vars.global: the root workflow's vars (with the host's)
local LAST = {}    -- supervising instance id -> { [child name] = entry as last applied }
local EMPTY = {}
local WHERE = {}  -- child name -> "child 'name': " (error prefixes); reset with TEMPLATES

local function fail(message)
  error({ name = "SupervisionError", message = message }, 0)
end

function M.setup(functions, global)
  FNS, GLOBAL = functions, global or {}
end

-- ---- templates ------------------------------------------------------------------

local NAMESPACES = { user = true, global = true, internal = true }
local concat = table.concat

-- Parsed templates by text: false for a string without placeholders, else a list of
-- literal strings and { path, segments } placeholders (and `whole` when the string is
-- exactly one placeholder). Parsing once keeps a tick's renders to table lookups.
-- (Strings are never collected from a table: the cache starts over past max_templates.)
local TEMPLATES, templates, max_templates = {}, 0, 10000

local function parse(text, where)
  if not find(text, "{{", 1, true) then return false end
  local parts, pos = {}, 1
  while true do
    local open = find(text, "{{", pos, true)
    if not open then break end
    local close = find(text, "}}", open + 2, true)
    local path = close and match(text:sub(open + 2, close - 1), "^%s*([%w_%.]+)%s*$")
    if not path then
      fail(where .. "template '" .. text .. "' has a malformed placeholder (expected {{ namespace.name }})")
    end
    local ns = match(path, "^[^%.]+")
    if not NAMESPACES[ns] then
      fail(where .. "template '" .. text .. "' names '" .. path ..
          "': variables start with user., global. or internal.")
    end
    if open > pos then parts[#parts + 1] = text:sub(pos, open - 1) end
    local segments = {}
    for segment in path:gmatch("[^%.]+") do segments[#segments + 1] = segment end
    parts[#parts + 1] = { path = path, segments = segments }
    pos = close + 2
  end
  if find(text, "}}", pos, true) then
    fail(where .. "template '" .. text .. "' has a malformed placeholder (expected {{ namespace.name }})")
  end
  if pos <= #text then parts[#parts + 1] = text:sub(pos) end
  if #parts == 1 and type(parts[1]) == "table" then parts.whole = parts[1] end
  return parts
end

-- The variable a placeholder names; strict: a missing one is an error naming the
-- template and the name.
local function value_of(p, vars, text, where)
  local value, segments = vars, p.segments
  for i = 1, #segments do
    if type(value) ~= "table" then value = nil break end
    value = value[segments[i]]
    if value == nil then
      fail(where .. "template '" .. text .. "' names an unknown variable '" .. concat(segments, ".", 1, i) .. "'")
    end
  end
  if value == nil then fail(where .. "template '" .. text .. "' names an unknown variable '" .. p.path .. "'") end
  if type(value) == "table" then
    fail(where .. "template '" .. text .. "': variable '" .. p.path .. "' is a table, not a value")
  end
  return value
end

-- Renders `text` in strict mode. A string that is a single placeholder takes the
-- variable's own type.
local function render(text, vars, where)
  local parts = TEMPLATES[text]
  if parts == nil then
    parts = parse(text, where)
    templates = templates + 1
    if templates > max_templates then TEMPLATES, WHERE, templates = {}, {}, 1 end
    TEMPLATES[text] = parts
  end
  if not parts then return text end
  if parts.whole then return value_of(parts.whole, vars, text, where) end
  local out = {}
  for i = 1, #parts do
    local p = parts[i]
    out[i] = type(p) == "string" and p or tostring(value_of(p, vars, text, where))
  end
  return concat(out)
end
M.render = render

-- A copy of `value` with every string rendered.
local function render_all(value, vars, where)
  local t = type(value)
  if t == "string" then return render(value, vars, where) end
  if t ~= "table" then return value end
  local out = {}
  for k, v in pairs(value) do out[k] = render_all(v, vars, where) end
  return setmetatable(out, getmetatable(value))
end

-- Whether `text` rendered equals the string `before`, piece by piece: the usual tick
-- compares without building (and interning) the rendered string.
local function same_text(before, text, vars, where)
  local parts = TEMPLATES[text]
  if parts == nil then return before == render(text, vars, where) end  -- parsed on first sight
  if not parts then return before == text end
  if parts.whole then return before == value_of(parts.whole, vars, text, where) end
  if type(before) ~= "string" then return false end
  local pos = 1
  for i = 1, #parts do
    local p = parts[i]
    if type(p) ~= "string" then p = tostring(value_of(p, vars, text, where)) end
    if find(before, p, pos, true) ~= pos then return false end
    pos = pos + #p
  end
  return pos == #before + 1
end

-- Whether `value` rendered equals `before`, without building the rendered copy.
local function same_rendered(before, value, vars, where)
  local t = type(value)
  if t == "string" then return same_text(before, value, vars, where) end
  if t ~= "table" then return before == value end
  if type(before) ~= "table" then return false end
  local n = 0
  for k, v in each(value) do
    if not same_rendered(before[k], v, vars, where) then return false end
    n = n + 1
  end
  for _ in each(before) do n = n - 1 end
  return n == 0
end

-- ---- specs ----------------------------------------------------------------------

local function same(a, b)
  if a == b then return true end
  if type(a) ~= "table" or type(b) ~= "table" then return false end
  for k, v in each(a) do
    if not same(v, b[k]) then return false end
  end
  for k in each(b) do
    if a[k] == nil then return false end
  end
  return true
end

local SPEC_KEYS = { name = true, workflow = true, spec = true, state_map = true, vars = true }

local function table_or_nil(spec, name, key)
  local value = spec[key]
  if value ~= nil and type(value) ~= "table" then
    fail("child '" .. name .. "': '" .. key .. "' must be a table, not " .. type(value))
  end
end

-- The checks every spec passes on every derive (a state_map's contents are checked
-- when it changes: check_state_map).
local function checked_entry(spec, i, seen)
  if type(spec) ~= "table" then fail("child spec " .. i .. " must be a table, not " .. type(spec)) end
  local name = spec.name
  if type(name) ~= "string" or name == "" or find(name, "/", 1, true) then
    fail("child spec " .. i .. " needs a 'name' (a non-empty string without '/')")
  end
  if seen[name] then fail("two child specs are named '" .. name .. "'") end
  seen[name] = true
  if type(spec.workflow) ~= "string" or spec.workflow == "" then
    fail("child '" .. name .. "' needs a 'workflow' (a [machines] name or a file)")
  end
  for key in each(spec) do
    if not SPEC_KEYS[key] then
      fail("child '" .. name .. "': unknown key '" .. tostring(key) ..
          "' (a child spec has name, workflow, spec, state_map, vars)")
    end
  end
  table_or_nil(spec, name, "spec")
  table_or_nil(spec, name, "state_map")
  table_or_nil(spec, name, "vars")
  return spec
end

local function check_state_map(spec, name)
  if not spec.state_map then return end
  for from, to in each(spec.state_map) do
    if type(from) ~= "string" or type(to) ~= "string" then
      fail("child '" .. name .. "': state_map maps parent state names to child state names (strings)")
    end
  end
end

-- The user namespace of an instance: its data, what its parent passed down (`passed`,
-- the spec's vars) over it, and its state.
local function user_vars(data, passed, state)
  local user = {}
  for k, v in each(data) do user[k] = v end
  if passed then for k, v in each(passed) do user[k] = v end end
  user.state = state
  return user
end

local function context(id, state, user, internal)
  return { id = id, state = state, vars = { user = user, global = GLOBAL, internal = internal } }
end

-- Whether the diff cache of instance `id` is filled (C++ seeds it from the tree).
function M.seeded(id) return LAST[id] ~= nil end

-- Fills the diff cache of `id` with the entries the tree holds ({ name = entry }).
function M.seed(id, entries) LAST[id] = entries end

function M.forget(id) LAST[id] = nil end

-- Calls the `children` function `fn` (an index into the workflow's functions) of
-- instance `id` and returns the changes against what was last applied, as a list of
-- { op = "add" | "update" | "remove", name = , entry = } (entry: rendered).
function M.derive(id, fn, data, passed, state, internal)
  local user = user_vars(data, passed, state)
  local ctx = context(id, state, user, internal)
  local specs = FNS[fn + 1](data, ctx)
  if specs == nil then specs = {} end
  if type(specs) ~= "table" then fail("the children function must return a list of child specs, not " .. type(specs)) end
  local vars = ctx.vars
  local last, ops, seen = LAST[id] or {}, {}, {}
  local now = {}
  for i, spec in ipairs(specs) do
    checked_entry(spec, i, seen)
    local name = spec.name
    local where = WHERE[name]
    if where == nil then
      where = "child '" .. name .. "': "
      WHERE[name] = where
    end
    local before = last[name]
    -- Unchanged (the usual tick): compared as rendered, nothing built.
    if before and before.workflow == spec.workflow and same_rendered(before.spec, spec.spec or EMPTY, vars, where)
        and same(before.state_map, spec.state_map or EMPTY) and same_rendered(before.vars, spec.vars or EMPTY, vars, where) then
      now[name] = before
    else
      check_state_map(spec, name)
      local entry = {
        name = name,
        workflow = spec.workflow,
        spec = spec.spec and render_all(spec.spec, vars, where) or {},
        state_map = spec.state_map or {},
        vars = spec.vars and render_all(spec.vars, vars, where) or {},
      }
      now[name] = entry
      ops[#ops + 1] = { op = before and "update" or "add", name = name, entry = entry }
    end
  end
  for name in raw_pairs(last) do
    if now[name] == nil then ops[#ops + 1] = { op = "remove", name = name } end
  end
  LAST[id] = now
  return ops
end

-- Runs `[supervision] health` for instance `id`: true | false, why.
function M.health(id, fn, data, passed, state, internal)
  local user = user_vars(data, passed, state)
  local ok, healthy, why = pcall(FNS[fn + 1], data, context(id, state, user, internal))
  if not ok then
    local err = healthy
    if type(err) == "table" then return false, tostring(err.message or err.name) end
    return false, tostring(err)
  end
  if healthy then return true end
  return false, why ~= nil and tostring(why) or "the health check said no"
end

-- For the template benchmark and tests: renders `text` with `vars`.
function M.render_text(text, user, internal)
  return render(text, { user = user, global = GLOBAL, internal = internal }, "")
end

return M
