-- statenet records: how a record's data lives in Lua. Lazy roots (fields decoded from
-- JSON or loaded from a reference-mode row the first time they are read), copies, the
-- copy-on-write views that implement copy mode, pairs/ipairs that see through views,
-- and the helpers user code gets as `statenet.*`. The runtime (statenet/runtime.lua)
-- binds these to locals, so its hot paths reach them as upvalues.

local type, pairs, ipairs, next, setmetatable, rawget, rawset =
    type, pairs, ipairs, next, setmetatable, rawget, rawset
local getmetatable = debug.getmetatable
local clear = require("table.clear")
local protocol = require("statenet.protocol")

local M = {}

local TOMB = setmetatable({}, { __tostring = function() return "statenet.deleted" end })
M.TOMB = TOMB

-- Marks a Lua table that must leave Lua as a JSON array even when empty.
local array_mt = { __statenet_array = true, __metatable = false }
M.array_mt = array_mt

local VIEW_OF = setmetatable({}, { __mode = "k" })  -- proxy -> view
local READ_ONLY = setmetatable({}, { __mode = "k" })  -- read-only proxy (ctx.vars...) -> its table
M.VIEW_OF, M.READ_ONLY = VIEW_OF, READ_ONLY

-- ---------------------------------------------------------------------------------
-- Lazy roots: a record's root table filled on demand, so fields no function reads
-- never become Lua values.
--  * JSON: the record arrived as JSON text (Workflow::process_json); a top-level field
--    is decoded the first time it is read (FETCHED remembers which were, so a deleted
--    field stays deleted). Scalars come through one FFI call, which the JIT compiles
--    into the trace; objects and arrays through a classic C function.
--  * ROW (reference mode): the root holds the key until any other field is read; then
--    the whole row is loaded in one call.
-- Everything that walks a table with `next` touches it first, which fills it whole.

local ffi = require("ffi")

-- An unfilled root is known by its metatable (json_mt or row_mt, below): no side
-- table of roots, which would take a new key per record.
local json_mt, row_mt
local FETCHED = {}   -- JSON root: keys that are not to be fetched from the input again this run
local load_row       -- C function: the reference-mode row (M.set_reference_loader)
local json_field, json_record, json_table, json_all  -- M.set_json_source
local number_out, text_out, length_out = ffi.new("double[1]"), ffi.new("const char*[1]"), ffi.new("size_t[1]")

-- Field codes of statenet_json_field (src/lua/json_record.cpp).
local FIELD = protocol.json_field
local NULL, FALSE, TRUE, NUMBER, STRING = FIELD.NULL, FIELD.FALSE, FIELD.TRUE, FIELD.NUMBER, FIELD.STRING

local function fetch(k)
  if type(k) ~= "string" then return nil end
  local code = json_field(json_record, k, #k, number_out, text_out, length_out)
  if code == NUMBER then return number_out[0] end
  if code == STRING then return ffi.string(text_out[0], length_out[0]) end
  if code <= NULL then return nil end
  if code == TRUE then return true end
  if code == FALSE then return false end
  return json_table(k)
end

local function touch(t)
  local mt = getmetatable(t)
  local json = mt == json_mt
  if not json and mt ~= row_mt then return end
  local all = json and json_all() or load_row()  -- may raise: t stays unfilled
  setmetatable(t, nil)
  for k, v in next, all do
    if rawget(t, k) == nil and not (json and FETCHED[k]) then rawset(t, k, v) end
  end
end

json_mt = {
  -- A field read once is in the table from then on; FETCHED only needs the keys that
  -- are not: fields the input lacks, and fields deleted this run (view.apply).
  __index = function(t, k)
    if FETCHED[k] then return nil end
    local v = fetch(k)
    if v ~= nil then rawset(t, k, v) else FETCHED[k] = true end
    return v
  end,
  -- Only for keys not in the table: marks them so the input's value never shows again.
  __newindex = function(t, k, v)
    FETCHED[k] = true
    rawset(t, k, v)
  end,
}

row_mt = { __index = function(t, k) touch(t); return rawget(t, k) end }

function M.set_reference_loader(f) load_row = f end

-- `field`: the address of statenet_json_field; `record`: the runner's JsonRecord;
-- `tbl`, `all`: C functions pushing one object/array field, and every field.
function M.set_json_source(field, record, tbl, all)
  json_field = ffi.cast("int (*)(void*, const char*, size_t, double*, const char**, size_t*)", field)
  -- A light userdata argument is not compiled; a void* cdata is.
  json_record, json_table, json_all = ffi.cast("void*", record), tbl, all
end

-- ---------------------------------------------------------------------------------
-- Copies

local function deep_copy(t)
  touch(t)
  local guarded = READ_ONLY[t]
  if guarded then return deep_copy(guarded) end
  local c = {}
  for k, v in next, t do
    if type(v) == "table" then v = deep_copy(v) end
    c[k] = v
  end
  local mt = getmetatable(t)
  if mt == array_mt then setmetatable(c, mt) end
  return c
end
M.deep_copy = deep_copy

local function shallow_copy(t)
  touch(t)
  local c = {}
  for k, v in next, t do c[k] = v end
  return c
end

-- ---------------------------------------------------------------------------------
-- Copy-on-write views.
--
-- A view is an empty proxy whose __index/__newindex are Lua functions (JIT-friendly,
-- unlike C metamethods). Writes and deletions (a tombstone) go to a side table; reads
-- fall through to the base. A nested table is deep-copied the first time it is read
-- through the view, so in copy mode nothing reachable from a committed root is ever
-- mutated in place: committing is a rawset of the changed top-level keys, rolling
-- back is forgetting the side table, and a shallow copy of a root is a full snapshot.
-- Views are reused per slot, so no table is built per state.

local function new_view()
  local base, writes, replaced = nil, {}, false
  local proxy = {}
  local view = { proxy = proxy }
  setmetatable(proxy, {
    __metatable = false,  -- the view is reused by the next record: its metatable stays as it is
    __statenet_view = view,
    __index = function(_, k)
      local w = writes[k]
      if w ~= nil then
        if w == TOMB then return nil end
        return w
      end
      local v = base[k]
      if type(v) == "table" then
        v = deep_copy(v)
        writes[k] = v
      end
      return v
    end,
    __newindex = function(_, k, v)
      if v == nil then v = TOMB end
      writes[k] = v
    end,
  })

  function view.open(root)
    base, replaced = root, false
    clear(writes)
  end

  -- A transform returned a new table: it becomes the base, pending writes are dropped.
  function view.replace(t)
    base, replaced = t, true
    clear(writes)
  end

  -- Applies the pending changes into `into` (the base itself when nil) and returns it.
  -- `dirty`, when given, learns every key that changed.
  function view.apply(into, dirty)
    local root = into or base
    for k, w in next, writes do
      if w == TOMB then
        root[k] = nil
        FETCHED[k] = true  -- a lazy JSON root must not fetch the input's value again
      else
        root[k] = w
      end
      if dirty then dirty[k] = true end
    end
    clear(writes)
    return root
  end

  function view.replaced() return replaced end
  function view.base() return base end

  -- The view's current content as a new plain table (used when a view leaves Lua).
  function view.materialize()
    local t = shallow_copy(base)
    for k, w in next, writes do
      if w == TOMB then t[k] = nil else t[k] = w end
    end
    return t
  end

  function view.iter()
    touch(base)
    local wkey, bkey, in_writes = nil, nil, true
    return function()
      while in_writes do
        local k, w = next(writes, wkey)
        wkey = k
        if k == nil then in_writes = false
        elseif w ~= TOMB then return k, w end
      end
      while true do
        local k, v = next(base, bkey)
        bkey = k
        if k == nil then return nil end
        if writes[k] == nil then
          if type(v) == "table" then return k, proxy[k] end
          return k, v
        end
      end
    end
  end

  VIEW_OF[proxy] = view
  return view
end

-- Views have no __pairs in LuaJIT's 5.1 mode, so the globals learn about them.
local raw_pairs, raw_ipairs = pairs, ipairs
_G.pairs = function(t)
  local view = VIEW_OF[t]
  if view == nil then
    local guarded = READ_ONLY[t]
    if guarded == nil then
      touch(t)
      return raw_pairs(t)
    end
    local key
    return function()
      local k = next(guarded, key)
      key = k
      if k ~= nil then return k, t[k] end
    end
  end
  return view.iter()
end
_G.ipairs = function(t)
  if VIEW_OF[t] == nil then return raw_ipairs(t) end
  return function(p, i)
    i = i + 1
    local v = p[i]
    if v ~= nil then return i, v end
  end, t, 0
end

-- Helpers for user code, also reachable as `statenet.*` from any function.
local api = {}
function api.array(t) return setmetatable(t or {}, array_mt) end
function api.is_view(t) return VIEW_OF[t] ~= nil end
-- A plain-table copy of a record or view (deep).
function api.copy(t)
  local view = VIEW_OF[t]
  if view then t = view.materialize() end
  return deep_copy(t)
end
-- Length of an array field or a view of one (`#` does not see through views).
function api.len(t)
  if VIEW_OF[t] == nil then return #t end
  local n = 0
  while t[n + 1] ~= nil do n = n + 1 end
  return n
end
_G.statenet = api
M.api = api

function M.materialize(proxy)
  local view = VIEW_OF[proxy]
  if view then return view.materialize() end
  if READ_ONLY[proxy] then return deep_copy(proxy) end
  return proxy
end


M.touch, M.deep_copy, M.shallow_copy, M.new_view = touch, deep_copy, shallow_copy, new_view
M.json_mt, M.row_mt, M.FETCHED = json_mt, row_mt, FETCHED
M.raw_pairs, M.raw_ipairs = raw_pairs, raw_ipairs

return M
