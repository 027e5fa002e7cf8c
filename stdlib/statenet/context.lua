-- statenet context: the `ctx` workflow functions get. The runtime's own ctx holds what
-- it sets per step (state, network, attempt, error ...); functions see it through a
-- read-only proxy with resources, log, vars and params read-only too, so one record
-- cannot change what the next one sees. Part of statenet/runtime.lua, which passes in
-- what it shares: `READ_ONLY` (proxy -> table, for the sandbox and materialize), the
-- runtime's `api`, whether code is `sandboxed`, and `raw_ipairs`.

local type, setmetatable, error, tostring, rawset = type, setmetatable, error, tostring, rawset

return function(deps)
  local READ_ONLY, api, sandboxed, raw_ipairs = deps.READ_ONLY, deps.api, deps.sandboxed, deps.raw_ipairs

  local ctx = { vars = {}, resources = {}, log = {}, attempt = 0, state = "", network = "" }
  -- statenet.machine replaces these for machine instances; a record has no outbox.
  local function machines_only(name)
    return function() error("ctx." .. name .. " works only in machines (statenet machine, Machines)", 2) end
  end
  ctx.emit, ctx.send = machines_only("emit"), machines_only("send")
  ctx.start_action = machines_only("start_action")

  -- A read-only view of `t` for workflow code: reads go through, writes raise, and its
  -- metatable cannot be read or replaced. (The sandbox's rawset and table functions
  -- refuse it too: see statenet/sandbox.lua.)
  local function frozen(t, what)
    local proxy = setmetatable({}, {
      __index = t,
      __newindex = function() error(what .. " is read-only", 2) end,
      __metatable = false,
    })
    READ_ONLY[proxy] = t
    return proxy
  end

  -- A read-only proxy of `t`, nested tables included (ctx.vars, ctx.params, ctx.signal).
  local function read_only(t, what)
    local proxy = setmetatable({}, {
      __index = function(_, k)
        local v = t[k]
        if type(v) == "table" then return read_only(v, what) end
        return v
      end,
      __newindex = function() error(what .. " is read-only", 2) end,
      -- Leaving Lua (stored into a record), it becomes a plain copy: see M.materialize.
      __statenet_view = true,
      __metatable = false,
    })
    READ_ONLY[proxy] = t
    return proxy
  end

  local user_ctx = ctx
  local shadow = {}  -- what user_ctx reads before ctx: the fields that differ, and vars (one hop less)
  if sandboxed then
    shadow.resources, shadow.log = frozen(ctx.resources, "ctx.resources"), frozen(ctx.log, "ctx.log")
    setmetatable(shadow, { __index = ctx })
    user_ctx = frozen(shadow, "ctx")
    READ_ONLY[user_ctx] = ctx
  end

  -- ctx.run_id: given by the runner when it already has the run's id text, else made by
  -- the runner the first time a function reads it (most runs never do).
  local run_id_source
  local function set_run_id_source(f) run_id_source = f end
  setmetatable(ctx, {
    __index = function(t, k)
      if k == "run_id" and run_id_source then
        local id = run_id_source()
        rawset(t, "run_id", id)
        return id
      end
    end,
  })

  -- ctx.vars and ctx.params are read-only; ctx.log.<level>(message, fields) goes to the
  -- host's `log`.
  local function setup(vars, log, params)
    ctx.vars = read_only(vars, "ctx.vars")
    -- A workflow's [params] values: ctx.params in functions, statenet.params anywhere
    -- (module top level, factories).
    ctx.params = read_only(params, "ctx.params")
    api.params = ctx.params
    if sandboxed then shadow.vars, shadow.params = ctx.vars, ctx.params end
    for _, level in raw_ipairs({ "debug", "info", "warn", "error" }) do
      ctx.log[level] = function(message, fields)
        log(level, ctx.network .. "/" .. ctx.state, tostring(message), fields)
      end
    end
  end

  return {
    ctx = ctx, user_ctx = user_ctx, frozen = frozen, read_only = read_only, setup = setup,
    set_run_id_source = set_run_id_source,
  }
end
