"""statenet.Engine and Workflow from Python: process, batch, streams, errors, the GIL."""

import json
import os
import sys
import threading
import time
import unittest

import statenet
from workflows import Scratch


class WorkflowTest(unittest.TestCase):
    def setUp(self):
        self.scratch = Scratch()
        self.logs = []
        self.engine = statenet.Engine(log=lambda *args: self.logs.append(args))
        self.workflow = self.engine.load(self.scratch.file("orders.toml"))

    def tearDown(self):
        self.scratch.close()

    def test_process_returns_the_result(self):
        result = self.workflow.process({"id": 7, "amount": 250.5, "tags": ["a", None, True], "n": 2**70})
        self.assertTrue(result.ok)
        self.assertEqual(result.outcome, "emitted")
        self.assertEqual(result.final_state, "main/big")
        self.assertEqual(result.path, ["main/validate", "main/big"])
        self.assertEqual(result.data["route"], "desk")
        self.assertEqual(result.data["tags"], ["a", None, True])
        self.assertEqual(result.data["n"], float(2**70))
        self.assertIs(result.data, result.data)
        self.assertIsNone(result.error)
        self.assertEqual(result.transitions, 1)
        self.assertGreater(result.duration, 0)
        self.assertTrue(result.run_id)
        self.assertEqual(result.to_dict()["data"]["id"], 7)
        self.assertEqual(self.workflow.name, "orders")
        self.assertEqual(self.workflow.version, "2.1")

    def test_record_failures_are_in_the_result(self):
        result = self.workflow.process({"id": 8, "amount": "lots"})
        self.assertFalse(result.ok)
        self.assertEqual(result.outcome, "failed")
        self.assertEqual(result.error.name, "ValidationFailed")
        self.assertIn("amount must be a number", result.error.message)
        self.assertEqual(result.error.state, "main/validate")
        excluded = self.workflow.process({"id": 9, "amount": 1})
        self.assertEqual((excluded.ok, excluded.outcome, excluded.emit), (True, "excluded", False))

    def test_lua_log_calls_reach_python(self):
        self.workflow.process({"id": 10, "amount": 500})
        self.assertEqual(self.logs, [("info", "main/big", "big order", {"id": 10})])

    def test_a_failing_log_callback_is_reported_not_raised(self):
        def broken(*_):
            raise RuntimeError("log sink down")

        reported = []
        previous, sys.unraisablehook = sys.unraisablehook, lambda info: reported.append(info.exc_value)
        try:
            workflow = statenet.Engine(log=broken).load(self.scratch.file("orders.toml"))
            self.assertTrue(workflow.process({"id": 11, "amount": 500}).ok)
        finally:
            sys.unraisablehook = previous
        self.assertEqual([str(e) for e in reported], ["log sink down"])

    def test_vars_override(self):
        workflow = self.engine.load(self.scratch.file("orders.toml"), vars={"big": 1000})
        self.assertEqual(workflow.process({"id": 1, "amount": 500}).final_state, "main/small")

    def test_unconvertible_records_raise_type_error(self):
        with self.assertRaises(TypeError):
            self.workflow.process({"id": 1, "amount": {1, 2}})
        with self.assertRaises(TypeError):
            self.workflow.process({1: "non-str key"})
        with self.assertRaises(statenet.InvalidArgument):
            self.workflow.process({"id": 1}, mode="sideways")

    def test_process_batch_keeps_input_order(self):
        records = [{"id": i, "amount": i * 10} for i in range(40)]
        results = self.workflow.process_batch(records, workers=2)
        self.assertEqual([r.data["id"] for r in results], list(range(40)))
        self.assertEqual([r.outcome for r in results], ["excluded"] * 10 + ["emitted"] * 30)

    def test_process_stream_over_an_iterable(self):
        records = ({"id": i, "amount": 100 + i} if i != 3 else {"id": 3, "amount": {1}} for i in range(6))
        results = list(self.workflow.process_stream(records, chunk_size=4, workers=2))
        self.assertEqual(len(results), 6)
        self.assertEqual([r.ok for r in results], [True, True, True, False, True, True])
        self.assertEqual(results[3].error.name, "InvalidJson")
        self.assertIn("item 4", results[3].error.message)
        self.assertEqual(results[5].data["id"], 5)
        with self.assertRaises(statenet.InvalidArgument):
            self.workflow.process_stream([], errors="x.jsonl")

    def test_process_stream_over_files(self):
        source = self.scratch.write(
            "in.jsonl", '{"id": 1, "amount": 500}\n{"id": 2, "amount": "x"}\nnot json\n{"id": 4, "amount": 5}\n'
        )
        output, errors = self.scratch.file("out.jsonl"), self.scratch.file("errors.jsonl")
        failures = []
        stats = self.workflow.process_stream(
            source, output, errors=errors, on_failure=lambda line, error: failures.append((line, error.name))
        )
        self.assertEqual((stats.total, stats.emitted, stats.excluded, stats.failed), (4, 1, 1, 2))
        with open(output, encoding="utf-8") as f:
            self.assertEqual([json.loads(line)["id"] for line in f], [1])
        with open(errors, encoding="utf-8") as f:
            self.assertEqual(len(f.readlines()), 2)
        self.assertEqual(failures, [(2, "ValidationFailed"), (3, "InvalidJson")])
        with self.assertRaises(statenet.InvalidArgument):
            self.workflow.process_stream(source, output, colour="blue")

    def test_the_gil_is_released_while_the_engine_runs(self):
        slow = self.engine.load_string(
            'name = "slow"\n[networks.main.states.s]\nstart = true\nend = true\n'
            'transform = { lua = "local t = os.clock() + 0.3; while os.clock() < t do end" }\n',
            os.path.join(self.scratch.path, "slow.toml"),
        )
        ticks = []
        stop = threading.Event()

        def counter():
            while not stop.is_set():
                ticks.append(time.monotonic())
                time.sleep(0.005)

        thread = threading.Thread(target=counter)
        thread.start()
        try:
            started = time.monotonic()
            self.assertTrue(slow.process({}).ok)
            finished = time.monotonic()
        finally:
            stop.set()
            thread.join()
        during = [t for t in ticks if started < t < finished]
        self.assertGreater(finished - started, 0.25)
        self.assertGreater(len(during), 10, "the Python thread did not run while process() did")


class LoadErrorTest(unittest.TestCase):
    def setUp(self):
        self.scratch = Scratch()
        self.engine = statenet.Engine()

    def tearDown(self):
        self.scratch.close()

    def test_load_error_is_located(self):
        path = self.scratch.file("broken.toml")
        with self.assertRaises(statenet.LoadError) as caught:
            self.engine.load(path)
        error = caught.exception
        self.assertIsInstance(error, statenet.Error)
        self.assertEqual(error.file, path)
        self.assertEqual(error.line, 7)
        self.assertGreater(error.col, 0)
        self.assertIn("nowhere", str(error))
        self.assertTrue(str(error).startswith(f"{path}:7:"))
        self.assertEqual(len(error.diagnostics), len(self.engine.check(path)))
        self.assertEqual(str(error.diagnostics[0]), str(error).splitlines()[0])

    def test_missing_file_and_lua_errors(self):
        with self.assertRaises(statenet.LoadError):
            self.engine.load(self.scratch.file("absent.toml"))
        workflow = self.engine.load_string(
            'name = "boom"\n[networks.main.states.s]\nstart = true\nend = true\n'
            'transform = { lua = "error(\'kaput\')" }\n',
            os.path.join(self.scratch.path, "boom.toml"),
        )
        result = workflow.process({})
        self.assertEqual(result.error.name, "LuaError")
        self.assertIn("kaput", result.error.message)

    def test_hierarchy(self):
        self.assertTrue(issubclass(statenet.JsonError, statenet.InvalidArgument))
        self.assertTrue(issubclass(statenet.InvalidArgument, ValueError))
        self.assertTrue(issubclass(statenet.NotFound, LookupError))
        for name in ("LoadError", "InvalidArgument", "NotFound", "StateError", "HistoryError", "SignalError"):
            self.assertTrue(issubclass(getattr(statenet, name), statenet.Error), name)


if __name__ == "__main__":
    unittest.main()
