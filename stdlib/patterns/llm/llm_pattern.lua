-- The llm pattern's steps (stdlib/patterns/llm/workflow.toml): one function per mode,
-- configured by the workflow's vars. Built on std.llm (prompts, calls, schema checks).
local llm = require("std.llm")
local util = require("std.util")
local json = require("std.json")
local template = require("std.template")

local M = {}

local MODES = { simple = true, chain = true, rag = true, cot = true, agent = true }

local function fail(name, message) error({ name = name, message = message }, 0) end

-- ctx.vars is read-only: its tables answer indexing and the global pairs, not next.
local function given(v)
  if v == nil or v == "" then return nil end
  if type(v) == "table" then
    for _ in pairs(v) do return v end
    return nil
  end
  return v
end

-- The call spec for `prompt` with the workflow's system prompt, schema and sampling.
-- Specs are built once per VM (vars do not change) and kept by prompt.
local specs = {}
local function spec(vars, prompt, json_mode, schema)
  local key = prompt .. (json_mode and "\0json" or "")
  local s = specs[key]
  if s == nil then
    s = llm.call_spec({
      prompt = prompt, system = given(vars.system), json = json_mode or nil,
      schema = schema or util.plain(given(vars.schema)), temperature = vars.temperature,
    })
    specs[key] = s
  end
  return s
end

function M.check_mode(_, ctx)
  if not MODES[ctx.vars.mode] then
    fail("ValidationFailed", "unknown mode '" .. tostring(ctx.vars.mode) .. "' (simple, chain, rag, cot or agent)")
  end
end

local function answer(data, ctx, reply)
  llm.count_usage(data, { keys = { "usage" }, n = 1, last = "usage" }, reply)
  return reply
end

local function store(data, ctx, value)
  data[ctx.vars.into or "answer"] = value
end

function M.simple(data, ctx)
  local s = spec(ctx.vars, ctx.vars.prompt)
  local reply = answer(data, ctx, llm.call(ctx.resources.llm, s, data, ctx))
  store(data, ctx, s.json and reply.json or reply.text)
end

-- chain: each step's answer goes into its `into` field, where the next prompts read it.
function M.chain(data, ctx)
  local steps = ctx.vars.steps
  if not given(steps) then fail("ValidationFailed", "mode 'chain' needs vars.steps (a list of { prompt, into })") end
  local last
  for i, step in util.each(steps) do
    local reply = answer(data, ctx, llm.call(ctx.resources.llm, spec(ctx.vars, step.prompt), data, ctx))
    last = reply.text
    data[step.into or ("step" .. i)] = last
  end
  store(data, ctx, last)
end

-- rag: a record with `text` is a document to index; any other is a question, answered
-- from the top_k closest documents, which the prompt reads as {{context}}.
function M.is_document(data) return data.text ~= nil end

function M.index(data, ctx)
  local vector = ctx.resources.llm:embed((data.title or "") .. "\n" .. data.text)[1]
  ctx.resources.docs:add(tostring(data.id), vector, { title = data.title or "", text = data.text })
  data.indexed = true
end

function M.rag(data, ctx)
  local question = template.render(ctx.vars.query or "{{question}}", llm.scopes(data, ctx))
  local hits = ctx.resources.docs:search(ctx.resources.llm:embed(question)[1], ctx.vars.top_k or 3)
  local notes, sources = {}, {}
  for i, hit in ipairs(hits) do
    notes[i] = "[" .. hit.id .. "] " .. hit.meta.title .. ": " .. hit.meta.text
    sources[i] = hit.id
  end
  local reply = answer(data, ctx, llm.call(ctx.resources.llm, spec(ctx.vars, ctx.vars.rag_prompt), data, ctx,
    { context = table.concat(notes, "\n") }))
  local text = reply.text
  local cited = {}
  for _, id in ipairs(sources) do
    if text:find("[" .. id .. "]", 1, true) then cited[#cited + 1] = id end
  end
  store(data, ctx, text)
  data.sources = statenet.array(sources)
  data.cited = statenet.array(cited)
end

-- cot: the model reasons step by step and answers as JSON { reasoning, answer }.
local COT = "\n\nThink step by step. Reply with a JSON object: {\"reasoning\": \"your steps\", \"answer\": ...}."
local COT_SCHEMA = { type = "object", required = { "answer" }, properties = { reasoning = { type = "string" } } }

function M.cot(data, ctx)
  local reply = answer(data, ctx,
    llm.call(ctx.resources.llm, spec(ctx.vars, ctx.vars.prompt .. COT, true, given(ctx.vars.schema) or COT_SCHEMA),
      data, ctx))
  store(data, ctx, reply.json.answer)
  data.reasoning = reply.json.reasoning
end

-- agent: the model answers { tool, input } to call a tool, or { answer } to finish.
-- A tool is a resource call: vars.tools.NAME = { resource, method, path, description },
-- `path` a template reading {{input}}. At most vars.max_steps model calls.
local function tool_list(tools)
  local lines = {}
  for name, tool in pairs(tools) do lines[#lines + 1] = "- " .. name .. ": " .. (tool.description or "") end
  table.sort(lines)
  return table.concat(lines, "\n")
end

local function run_tool(ctx, name, input)
  local tool = ctx.vars.tools[name]
  if tool == nil then fail("UnknownTool", "the model asked for tool '" .. tostring(name) .. "', which is not in vars.tools") end
  local resource = ctx.resources[tool.resource]
  if resource == nil then fail("ResourceError", "tool '" .. name .. "': no resource '" .. tostring(tool.resource) .. "'") end
  local path = template.render(tool.path, { input = tostring(input) })
  local r = resource:request(tool.method or "GET", path, { raise = false })
  return json.encode({ status = r.status, result = r.json or r.body })
end

function M.agent(data, ctx)
  local vars = ctx.vars
  local system = (given(vars.system) or "You answer questions, calling tools when you need facts.") ..
      "\nTools:\n" .. tool_list(vars.tools or {}) ..
      "\nReply with a JSON object: {\"tool\": NAME, \"input\": VALUE} to call a tool, or {\"answer\": ...} when done."
  local messages = {
    { role = "system", content = system },
    { role = "user", content = template.render(vars.prompt, llm.scopes(data, ctx)) },
  }
  local trace = {}
  for step = 1, vars.max_steps or 5 do
    local reply = answer(data, ctx, ctx.resources.llm:chat(messages, { json = true }))
    local move = reply.json
    if type(move) ~= "table" then fail("InvalidOutput", "the agent's reply is not a JSON object") end
    if move.answer ~= nil then
      store(data, ctx, move.answer)
      data.steps = step
      data.trace = statenet.array(trace)
      return
    end
    if move.tool == nil then fail("InvalidOutput", "the agent's reply has neither 'tool' nor 'answer'") end
    local observation = run_tool(ctx, move.tool, move.input)
    trace[#trace + 1] = { tool = move.tool, input = move.input }
    messages[#messages + 1] = { role = "assistant", content = reply.text }
    messages[#messages + 1] = { role = "user", content = "Observation: " .. observation }
  end
  fail("StepLimit", "the agent did not answer within max_steps = " .. (vars.max_steps or 5) .. " model calls")
end

return M
