-- statenet supervisor, Lua side: derives a supervising instance's desired children
-- (its state's `children` function), renders their templates strictly and diffs them
-- against what was last applied, so that C++ (src/supervise/) only sees the changes.
-- Also runs `[supervision] health`. Driven by src/supervise/supervise_vm.cpp.

local type, pairs, ipairs, tostring = type, pairs, ipairs, tostring
local find, gsub, match = string.find, string.gsub, string.match

local M = {}

local FNS          -- the workflow's resolved functions (registry "statenet.functions")
local GLOBAL = {}  -- ctx.vars.global: the root workflow's vars (with the host's)
local LAST = {}    -- supervising instance id -> { [child name] = entry as last applied }

local function fail(message)
  error({ name = "SupervisionError", message = message }, 0)
end

function M.setup(functions, global)
  FNS, GLOBAL = functions, global or {}
end

-- ---- templates ------------------------------------------------------------------

local NAMESPACES = { user = true, global = true, internal = true }

-- The value `path` ("user.host") names in `vars`, or nil and the missing name.
local function lookup(vars, path)
  local value, walked = vars, nil
  for segment in path:gmatch("[^%.]+") do
    walked = walked and (walked .. "." .. segment) or segment
    if type(value) ~= "table" then return nil, walked end
    value = value[segment]
    if value == nil then return nil, walked end
  end
  return value
end

-- Renders the template `text` in strict mode: every `{{ ns.path }}` must name a
-- variable (user, global or internal), else the error names the template and the
-- missing name. A string that is a single placeholder takes the variable's own type.
local function render(text, vars, where)
  if not find(text, "{{", 1, true) then return text end
  local whole = match(text, "^{{%s*([%w_%.]+)%s*}}$")
  local function value_of(path)
    local ns = match(path, "^[^%.]+")
    if not NAMESPACES[ns] then
      fail(where .. "template '" .. text .. "' names '" .. path ..
          "': variables start with user., global. or internal.")
    end
    local v, missing = lookup(vars, path)
    if v == nil then
      fail(where .. "template '" .. text .. "' names an unknown variable '" .. (missing or path) .. "'")
    end
    if type(v) == "table" then
      fail(where .. "template '" .. text .. "': variable '" .. path .. "' is a table, not a value")
    end
    return v
  end
  if whole then return value_of(whole) end
  local out = gsub(text, "{{%s*([%w_%.]+)%s*}}", function(path) return tostring(value_of(path)) end)
  if find(out, "{{", 1, true) or find(out, "}}", 1, true) then
    fail(where .. "template '" .. text .. "' has a malformed placeholder (expected {{ namespace.name }})")
  end
  return out
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

-- ---- specs ----------------------------------------------------------------------

local function same(a, b)
  if a == b then return true end
  if type(a) ~= "table" or type(b) ~= "table" then return false end
  for k, v in pairs(a) do
    if not same(v, b[k]) then return false end
  end
  for k in pairs(b) do
    if a[k] == nil then return false end
  end
  return true
end

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
  for key in pairs(spec) do
    if key ~= "name" and key ~= "workflow" and key ~= "spec" and key ~= "state_map" and key ~= "vars" then
      fail("child '" .. name .. "': unknown key '" .. tostring(key) ..
          "' (a child spec has name, workflow, spec, state_map, vars)")
    end
  end
  for _, key in ipairs({ "spec", "state_map", "vars" }) do
    if spec[key] ~= nil and type(spec[key]) ~= "table" then
      fail("child '" .. name .. "': '" .. key .. "' must be a table, not " .. type(spec[key]))
    end
  end
  if spec.state_map then
    for from, to in pairs(spec.state_map) do
      if type(from) ~= "string" or type(to) ~= "string" then
        fail("child '" .. name .. "': state_map maps parent state names to child state names (strings)")
      end
    end
  end
  return spec
end

-- The user namespace of an instance: its data, what its parent passed down (`passed`,
-- the spec's vars) over it, and its state.
local function user_vars(data, passed, state)
  local user = {}
  for k, v in pairs(data) do user[k] = v end
  if passed then for k, v in pairs(passed) do user[k] = v end end
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
    local where = "child '" .. spec.name .. "': "
    local entry = {
      name = spec.name,
      workflow = spec.workflow,
      spec = spec.spec and render_all(spec.spec, vars, where) or {},
      state_map = spec.state_map or {},
      vars = spec.vars and render_all(spec.vars, vars, where) or {},
    }
    now[spec.name] = entry
    local before = last[spec.name]
    if before == nil then
      ops[#ops + 1] = { op = "add", name = spec.name, entry = entry }
    elseif not same(before, entry) then
      ops[#ops + 1] = { op = "update", name = spec.name, entry = entry }
    end
  end
  for name in pairs(last) do
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
