-- std.llm: prompts built from templates, a model called through an `llm` resource, and
-- its answer checked against a JSON schema (docs/stdlib.md#stdllm). The factories
-- follow std.validate's conventions: checked args, `f(data, ctx)` functions.

local type, concat = type, table.concat
local util = require("std.util")
local template = require("std.template")
local schema_of = require("std.schema")

local factory, arg_error = util.factory, util.arg_error

local M = {}

local function required_string(args, key)
  local v = args[key]
  if type(v) ~= "string" or v == "" then arg_error("'%s' is required (a non-empty string)", key) end
  return v
end

local function path_arg(args, key, default)
  local v = args[key]
  if v == nil then v = default end
  if v == nil then return nil end
  return util.parse_path(v, "'" .. key .. "'")
end

local put = util.put

-- The scopes a template reads: the record, then `vars` (ctx.vars) and `ctx` values.
local function scopes(data, ctx, extra)
  local list = { data, { vars = ctx.vars } }
  if extra then list[#list + 1] = extra end
  return { scopes = list }
end
M.scopes = scopes

-- The messages for one call: `system`, few-shot `examples` ({ user, assistant } pairs),
-- then the user prompt. Templates read the record (and {{vars.x}}).
function M.messages(spec, data, ctx, extra)
  local scope = scopes(data, ctx, extra)
  local messages = {}
  if spec.system then messages[#messages + 1] = { role = "system", content = template.render(spec.system, scope) } end
  for _, ex in ipairs(spec.examples or {}) do
    messages[#messages + 1] = { role = "user", content = ex.user }
    messages[#messages + 1] = { role = "assistant", content = ex.assistant }
  end
  messages[#messages + 1] = { role = "user", content = template.render(spec.prompt, scope) }
  return messages
end

local function check_examples(examples)
  if examples == nil then return end
  if type(examples) ~= "table" or not util.is_list(examples) then arg_error("'examples' must be a list") end
  for i, ex in ipairs(examples) do
    if type(ex) ~= "table" or type(ex.user) ~= "string" or type(ex.assistant) ~= "string" then
      arg_error("examples[%d] must be { user = \"...\", assistant = \"...\" }", i)
    end
  end
end

-- prompt: builds the user prompt (and the messages) into the record.
-- Args: template (required), into = "prompt", system, examples.
M.prompt = factory("std.llm.prompt", { "template", "into", "system", "examples" }, function(args)
  local spec = { prompt = required_string(args, "template"), system = util.opt_type(args, "system", "string"),
    examples = args.examples }
  check_examples(spec.examples)
  template.placeholders(spec.prompt)
  local into = path_arg(args, "into", "prompt")
  return function(data, ctx)
    put(data, into, template.render(spec.prompt, scopes(data, ctx)))
  end
end)

-- Token usage of the record's calls so far, kept under `usage` (prompt, completion,
-- calls): the run's total is also in Result::usage and the summary.
local function count_usage(data, path, reply)
  if not path then return end
  local u = reply.usage or {}
  local t = util.get(data, path)
  if type(t) ~= "table" then
    put(data, path, {})
    t = util.get(data, path)
  end
  t.prompt_tokens = (t.prompt_tokens or 0) + (u.prompt_tokens or 0)
  t.completion_tokens = (t.completion_tokens or 0) + (u.completion_tokens or 0)
  t.calls = (t.calls or 0) + 1
end
M.count_usage = count_usage

-- One model call with the answer checked. `spec`: prompt, system, examples, json,
-- schema (a compiled checker), temperature, max_tokens, model. Returns the reply; a
-- JSON answer that does not fit the schema raises InvalidOutput.
function M.call(llm, spec, data, ctx, extra)
  if llm == nil then
    error({ name = "ResourceError", message = "std.llm: no llm resource named '" .. spec.resource .. "'" }, 0)
  end
  local reply = llm:chat(M.messages(spec, data, ctx, extra), {
    json = spec.json, temperature = spec.temperature, max_tokens = spec.max_tokens, model = spec.model,
  })
  if spec.check then
    local problem = spec.check(reply.json)
    if problem then error({ name = "InvalidOutput", message = "the answer does not fit the schema: " .. problem }, 0) end
  end
  return reply
end

-- The spec of a call from factory args (shared by std.llm.ask and the llm pattern).
function M.call_spec(args)
  local spec = {
    resource = util.opt_type(args, "resource", "string") or "llm",
    prompt = required_string(args, "prompt"),
    system = util.opt_type(args, "system", "string"),
    examples = args.examples,
    json = util.opt_type(args, "json", "boolean"),
    temperature = util.opt_type(args, "temperature", "number"),
    max_tokens = util.opt_type(args, "max_tokens", "number"),
    model = util.opt_type(args, "model", "string"),
  }
  check_examples(spec.examples)
  template.placeholders(spec.prompt)
  if args.schema ~= nil then
    spec.check = schema_of.compile(args.schema)
    spec.json = true
  end
  return spec
end

local call_args = { "resource", "prompt", "system", "examples", "json", "schema", "temperature", "max_tokens",
  "model", "into", "usage" }

-- ask: calls the model and stores its answer (`.json` in JSON mode, else the text).
-- Args: prompt (a template, required), resource = "llm", system, examples, json,
-- schema, temperature, max_tokens, model, into = "answer", usage = "usage".
M.ask = factory("std.llm.ask", call_args, function(args)
  local spec = M.call_spec(args)
  local into = path_arg(args, "into", "answer")
  local usage = path_arg(args, "usage", "usage")
  return function(data, ctx)
    local reply = M.call(ctx.resources[spec.resource], spec, data, ctx)
    count_usage(data, usage, reply)
    put(data, into, spec.json and reply.json or reply.text)
  end
end)

-- validate: a validator that checks a field (default `answer`) against a JSON schema.
M.validate = factory("std.llm.validate", { "field", "schema", "message" }, function(args)
  if type(args.schema) ~= "table" then arg_error("'schema' is required (a table)") end
  local check = schema_of.compile(args.schema)
  local path = path_arg(args, "field", "answer")
  local message = util.opt_type(args, "message", "string")
  return function(data)
    local problem = check(util.get(data, path))
    if problem then return false, path.name .. ": " .. (message or problem) end
    return true
  end
end)

return M
