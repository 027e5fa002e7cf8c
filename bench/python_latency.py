#!/usr/bin/env python3
"""Per-call cost of the reference workflow from Python: statenet's Workflow.process and a
pure-Python FSM doing the same work with python3-transitions (the stand-in for
dataknobs_fsm), on the reference record, in turns.

    PYTHONPATH=build/python python3 bench/python_latency.py [CALLS]

Prints `python_us X` (process() and reading result.ok), `python_data_us` (reading
result.data too), `transitions_us` (one machine reset for every record, the fastest way
to drive transitions) and `transitions_new_us` (a machine per record, transitions' usual
one-model-per-object use): microseconds per record, the best of ROUNDS medians over
100 blocks of calls; then the ratio transitions / statenet. bench/run_hosts.sh runs
it next to bench/host_latency.
"""

import os
import re
import statistics
import sys
import time

import statenet
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


def main():
    calls = int(sys.argv[1]) if len(sys.argv) > 1 else 100000
    rounds = int(os.environ.get("ROUNDS", "3"))
    workflow = statenet.Engine().load(os.path.join(BENCH, "reference", "reference.toml"))
    fsm = RecordFsm()

    check = workflow.process(RECORD)
    state, data, _ = fsm.process(RECORD)
    expected = {**RECORD, "amount_with_tax": 734.81, "country": "DE"}
    if not check.ok or check.final_state != "main/big" or check.data != expected or (state, data) != ("big", expected):
        sys.exit(f"python_latency: the two FSMs disagree: {check.to_dict()} vs {state} {data}")

    def statenet_call():
        if not workflow.process(RECORD).ok:
            raise SystemExit("python_latency: a statenet call failed")

    def statenet_data_call():
        workflow.process(RECORD).data

    def transitions_call():
        fsm.process(RECORD)

    def transitions_new_call():
        RecordFsm().process(RECORD)

    best = {"python_us": 1e9, "python_data_us": 1e9, "transitions_us": 1e9, "transitions_new_us": 1e9}
    for _ in range(rounds):
        best["python_us"] = min(best["python_us"], median_us(statenet_call, calls))
        best["python_data_us"] = min(best["python_data_us"], median_us(statenet_data_call, calls))
        best["transitions_us"] = min(best["transitions_us"], median_us(transitions_call, calls // 10))
        best["transitions_new_us"] = min(best["transitions_new_us"], median_us(transitions_new_call, calls // 100))
    for name, value in best.items():
        print(f"{name} {value:.3f}")
    print(f"transitions_ratio {best['transitions_us'] / best['python_data_us']:.2f}")


if __name__ == "__main__":
    main()
