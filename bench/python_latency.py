#!/usr/bin/env python3
"""Per-record cost of the reference workflow from Python: statenet's Workflow.process,
process_batch and process_stream against pure-Python FSMs doing the same workflow, on
the reference record, in turns.

    PYTHONPATH=build/python python3 bench/python_latency.py [CALLS] [RECORDS_FILE]

Prints, in microseconds per record (the best of ROUNDS medians over 100 blocks of calls,
CPU time of this thread; the file rows: CPU time of the process, every thread, once
per round over RECORDS_FILE):
  python_us           process(dict), reading result.ok
  python_data_us      process(dict), reading result.data too
  python_batch_us     process_batch(1,000 dicts, workers=1), reading every result.data
  python_iter_us      process_stream(iterable of 1,000 dicts, workers=1), every result.data
  python_file_us      process_stream(JSONL file -> JSONL file, workers=1)
  dataknobs_us        bench/dataknobs_like.py: what dataknobs_fsm's SimpleFSM does per
                      record (a context per record, a deep copy per state, function
                      objects, state instances), driven by python3-transitions
  dataknobs_file_us   the same reading the JSONL file and writing its output (json module)
  transitions_us      the minimal transitions FSM (RecordFsm below): one machine reset
  transitions_new_us  the same with a machine per record
bench/run_hosts.sh runs it next to bench/host_latency.
"""

import os
import re
import statistics
import sys
import time

import json
import tempfile

import statenet
from dataknobs_like import DataknobsLikeFsm
from transitions import Machine

BENCH = os.path.dirname(os.path.abspath(__file__))
RECORD = {
    "id": 123, "user_id": 4567, "amount": 612.34, "quantity": 3, "currency": "EUR", "status": "new",
    "email": "u123@example.com", "country": "de", "created": "2026-01-02T03:04:05Z",
    "meta": {"source": "web", "campaign": "c17"},
}
VARS = {"tax_rate": 0.2, "big_amount": 500}
EMAIL = re.compile(r"^[A-Za-z0-9._+-]+@[A-Za-z0-9.-]+\.[A-Za-z]+$")  # ref.lua's Lua pattern


class RecordFsm:
    """bench/reference/reference.toml with transitions: validate -> enrich -> big | small,
    the same three validators, two transforms and routing condition as ref.lua, on a copy
    of the record (statenet's copy mode). One machine, reset to `validate` per record."""

    def __init__(self):
        self.data = None
        self.error = None
        self.machine = Machine(
            model=self, states=["validate", "enrich", "big", "small", "failed"], initial="validate",
            transitions=[
                {"trigger": "next", "source": "validate", "dest": "enrich",
                 "conditions": ["valid_id", "valid_amount", "valid_email"]},
                {"trigger": "next", "source": "validate", "dest": "failed"},
                {"trigger": "next", "source": "enrich", "dest": "big", "conditions": "is_big"},
                {"trigger": "next", "source": "enrich", "dest": "small"},
            ],
            auto_transitions=False)

    def valid_id(self):
        value = self.data.get("id")
        ok = isinstance(value, (int, float)) and value > 0 and value % 1 == 0
        return ok or self.fail("id must be a positive integer")

    def valid_amount(self):
        value = self.data.get("amount")
        return (isinstance(value, (int, float)) and value >= 0) or self.fail("amount must be a number >= 0")

    def valid_email(self):
        value = self.data.get("email")
        return (isinstance(value, str) and EMAIL.match(value) is not None) or self.fail("email is not an address")

    def fail(self, message):
        self.error = message
        return False

    def on_enter_enrich(self):
        self.data["amount_with_tax"] = int(self.data["amount"] * (1 + VARS["tax_rate"]) * 100 + 0.5) / 100
        self.data["country"] = self.data["country"].upper()

    def is_big(self):
        return self.data["amount_with_tax"] >= VARS["big_amount"]

    def process(self, record):
        self.data, self.error = dict(record), None
        self.machine.set_state("validate")
        self.next()
        if self.state == "enrich":
            self.next()
        return self.state, self.data, self.error


def median_us(call, calls):
    """The median over 100 blocks of calls / 100 calls, in CPU microseconds per call."""
    for _ in range(calls // 10):
        call()
    blocks = []
    clock = time.thread_time  # CPU time: every call runs on this thread; other tenants move wall time
    block = max(1, calls // 100)
    for _ in range(100):
        start = clock()
        for _ in range(block):
            call()
        blocks.append((clock() - start) * 1e6 / block)
    return statistics.median(blocks)


def per_record_us(run, records):
    """Process CPU time (every thread) of run() over `records` records, in microseconds each."""
    start = time.process_time()
    run()
    return (time.process_time() - start) * 1e6 / records


def dataknobs_file(fsm, source, target):
    """dataknobs_like over a JSONL file: each line decoded, processed, written back if it succeeded."""
    with open(source, encoding="utf-8") as lines, open(target, "w", encoding="utf-8") as out:
        for line in lines:
            result = fsm.process(json.loads(line))
            if result["success"]:
                out.write(json.dumps(result["data"], separators=(",", ":")) + "\n")


def count_lines(path):
    with open(path, encoding="utf-8") as f:
        return sum(1 for _ in f)


def main():
    calls = int(sys.argv[1]) if len(sys.argv) > 1 else 100000
    records_file = sys.argv[2] if len(sys.argv) > 2 else None
    rounds = int(os.environ.get("ROUNDS", "3"))
    workflow = statenet.Engine().load(os.path.join(BENCH, "reference", "reference.toml"))
    fsm = RecordFsm()
    dataknobs = DataknobsLikeFsm()

    check = workflow.process(RECORD)
    state, data, _ = fsm.process(RECORD)
    like = dataknobs.process(RECORD)
    expected = {**RECORD, "amount_with_tax": 734.81, "country": "DE"}
    if not check.ok or check.final_state != "main/big" or check.data != expected or (state, data) != ("big", expected):
        sys.exit(f"python_latency: the two FSMs disagree: {check.to_dict()} vs {state} {data}")
    if (like["success"], like["final_state"], like["data"]) != (True, "big", expected):
        sys.exit(f"python_latency: dataknobs_like disagrees: {like}")
    bad = {**RECORD, "email": "nobody"}
    if (workflow.process(bad).error.name, dataknobs.process(bad)["error"]["name"]) != ("ValidationFailed",) * 2:
        sys.exit("python_latency: the FSMs disagree on a bad record")

    batch = [dict(RECORD, id=i + 1) for i in range(1000)]

    def statenet_call():
        if not workflow.process(RECORD).ok:
            raise SystemExit("python_latency: a statenet call failed")

    def statenet_data_call():
        workflow.process(RECORD).data

    def statenet_batch_call():
        for result in workflow.process_batch(batch, workers=1):
            result.data

    def statenet_iter_call():
        for result in workflow.process_stream(iter(batch), workers=1):
            result.data

    def transitions_call():
        fsm.process(RECORD)

    def transitions_new_call():
        RecordFsm().process(RECORD)

    def dataknobs_call():
        dataknobs.process(RECORD)

    best = {name: 1e9 for name in ("python_us", "python_data_us", "python_batch_us", "python_iter_us",
                                   "dataknobs_us", "transitions_us", "transitions_new_us")}
    if records_file:
        best.update(python_file_us=1e9, dataknobs_file_us=1e9)
        records = count_lines(records_file)
        scratch = tempfile.TemporaryDirectory(prefix="python_latency-")
        out = os.path.join(scratch.name, "out.jsonl")
    for _ in range(rounds):
        best["python_us"] = min(best["python_us"], median_us(statenet_call, calls))
        best["python_data_us"] = min(best["python_data_us"], median_us(statenet_data_call, calls))
        batch_us = median_us(statenet_batch_call, max(100, calls // 1000)) / len(batch)
        best["python_batch_us"] = min(best["python_batch_us"], batch_us)
        iter_us = median_us(statenet_iter_call, max(100, calls // 1000)) / len(batch)
        best["python_iter_us"] = min(best["python_iter_us"], iter_us)
        best["dataknobs_us"] = min(best["dataknobs_us"], median_us(dataknobs_call, calls // 10))
        best["transitions_us"] = min(best["transitions_us"], median_us(transitions_call, calls // 10))
        best["transitions_new_us"] = min(best["transitions_new_us"], median_us(transitions_new_call, calls // 100))
        if records_file:
            stream_us = per_record_us(lambda: workflow.process_stream(records_file, out, workers=1), records)
            best["python_file_us"] = min(best["python_file_us"], stream_us)
            file_us = per_record_us(lambda: dataknobs_file(dataknobs, records_file, out), records)
            best["dataknobs_file_us"] = min(best["dataknobs_file_us"], file_us)
    for name, value in best.items():
        print(f"{name} {value:.3f}")
    print(f"dataknobs_ratio {best['dataknobs_us'] / best['python_data_us']:.2f}")


if __name__ == "__main__":
    main()
