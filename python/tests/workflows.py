"""Workflow files the Python tests write into a scratch directory."""

import os
import tempfile

ORDERS_TOML = """\
name = "orders"
version = "2.1"
main = "main"

[vars]
big = 100

[networks.main.states.validate]
start = true
validate = ["rules.has_amount"]
[[networks.main.states.validate.arcs]]
to = "big"
when = "rules.is_big"
[[networks.main.states.validate.arcs]]
to = "small"

[networks.main.states.big]
end = true
transform = { lua = "data.route = 'desk'; ctx.log.info('big order', { id = data.id })" }

[networks.main.states.small]
end = true
emit = false
"""

RULES_LUA = """\
local M = {}
function M.has_amount(data)
  if type(data.amount) ~= "number" then return false, "amount must be a number" end
  return true
end
function M.is_big(data, ctx) return data.amount >= ctx.vars.big end
return M
"""

TALKER_TOML = """\
name = "talker"

[networks.main.states.idle]
start = true
[[networks.main.states.idle.arcs]]
to = "busy"
on = "work"
transform = { lua = "data.job = ctx.event.job; ctx.emit('reply', { text = 'working on ' .. ctx.event.job })" }

[networks.main.states.busy]
[[networks.main.states.busy.arcs]]
to = "done"
on = "finish"

[networks.main.states.done]
end = true
"""

FORM_TOML = """\
name = "form"

[networks.main.states.idle]
start = true
[[networks.main.states.idle.arcs]]
push = "form"
on = "open"
return_to = "review"

[networks.main.states.review]
end = true

[networks.form.states.ask]
start = true
[[networks.form.states.ask.arcs]]
to = "filled"
on = "answer"
transform = { lua = "data.answer = ctx.event" }

[networks.form.states.filled]
end = true
"""

BROKEN_TOML = """\
name = "broken"
main = "main"

[networks.main.states.a]
start = true
[[networks.main.states.a.arcs]]
to = "nowhere"
"""


class Scratch:
    """A temporary directory holding the workflows above."""

    def __init__(self):
        self._dir = tempfile.TemporaryDirectory(prefix="statenet-py-")
        self.path = self._dir.name
        self.write("orders.toml", ORDERS_TOML)
        self.write("rules.lua", RULES_LUA)
        self.write("talker.toml", TALKER_TOML)
        self.write("form.toml", FORM_TOML)
        self.write("broken.toml", BROKEN_TOML)

    def write(self, name, text):
        path = os.path.join(self.path, name)
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
        return path

    def file(self, name):
        return os.path.join(self.path, name)

    def close(self):
        self._dir.cleanup()
