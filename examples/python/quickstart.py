#!/usr/bin/env python3
"""statenet from Python, the quick start of a dataknobs-style simple API: one workflow
(examples/orders: validate, enrich, route), used three ways - one record, a batch, a
stream - plus machines. Run from a build tree:

    PYTHONPATH=build/python python3 examples/python/quickstart.py
"""

import os
import tempfile

import statenet

EXAMPLES = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ORDERS = os.path.join(EXAMPLES, "orders", "orders.toml")

# What ctx.log calls in the workflow's Lua become: here, lines on stdout.
engine = statenet.Engine(log=lambda level, state, message, fields: print(f"  log {level} {state}: {message} {fields}"))
fsm = engine.load(ORDERS)

# 1. One record: a dict in, a Result out (failures are in the result, never raised).
result = fsm.process({"id": 1, "amount": 250, "email": "  Ann@Example.COM "})
print("process:", result.outcome, result.final_state, result.data)
print("  path:", " -> ".join(result.path))

bad = fsm.process({"id": 5, "amount": "lots"})
print("process:", bad.outcome, bad.final_state, bad.data["rejected_because"])

# 2. A batch, on two worker threads (the GIL is released while they run).
batch = fsm.process_batch([{"id": i, "amount": a} for i, a in [(10, 500), (11, 5), (12, -1)]], workers=2)
print("process_batch:", [(r.data["id"], r.outcome, r.final_state) for r in batch])

# 3. A stream: a file of records into a file, failures into an errors file...
with tempfile.TemporaryDirectory() as scratch:
    output = os.path.join(scratch, "out.jsonl")
    stats = fsm.process_stream(os.path.join(EXAMPLES, "orders", "orders.jsonl"), output,
                               errors=os.path.join(scratch, "errors.jsonl"))
    print(f"process_stream(file): {stats.total} records, {stats.emitted} emitted, "
          f"{stats.excluded} excluded, {stats.failed} failed")
    with open(output, encoding="utf-8") as f:
        print("  first output line:", f.readline().strip())

# ... or any iterable of dicts, yielding Results in order.
generated = ({"id": 100 + i, "amount": 40 * i} for i in range(1, 5))
print("process_stream(iterable):", [r.final_state for r in fsm.process_stream(generated)])

# A workflow that does not load raises LoadError, located as file:line:col.
try:
    engine.load_string('name = "typo"\n[networks.main.states.a]\nstart = true\n'
                       '[[networks.main.states.a.arcs]]\nto = "nowhere"\n', "typo.toml")
except statenet.LoadError as error:
    print(f"LoadError at line {error.line}, column {error.col}: {error.diagnostics[0].message}")
