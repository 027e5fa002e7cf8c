"""statenet.History from Python: runs, a run's steps, stats, parked records, pruning."""

import unittest

import statenet
from workflows import ORDERS_TOML, Scratch

LOGGED_TOML = ORDERS_TOML.replace('name = "orders"', 'name = "logged"') + """
[history]
db = "history.db"
level = "full"
"""


class HistoryTest(unittest.TestCase):
    def setUp(self):
        self.scratch = Scratch()
        self.db = self.scratch.file("history.db")
        workflow = statenet.Engine().load(self.scratch.write("logged.toml", LOGGED_TOML))
        self.results = [
            workflow.process({"id": 1, "amount": 250}),  # big
            workflow.process({"id": 2, "amount": 5}),  # small, excluded
            workflow.process({"id": 3, "amount": "lots"}),  # fails validation
        ]
        workflow.flush_history()
        self.history = statenet.History(self.db)

    def tearDown(self):
        self.scratch.close()

    def test_runs_are_listed_oldest_first(self):
        runs = self.history.runs()
        self.assertEqual([r.run_id for r in runs], [r.run_id for r in self.results])
        big, small, failed = runs
        self.assertEqual((big.ok, big.final_state, big.workflow, big.version), (True, "main/big", "logged", "2.1"))
        self.assertEqual(big.level, "full")
        self.assertEqual(big.input, {"id": 1, "amount": 250})
        self.assertEqual(big.output["route"], "desk")
        self.assertEqual(big.transitions, 1)
        self.assertGreater(big.started_us, 0)
        self.assertEqual(small.final_state, "main/small")
        self.assertFalse(failed.ok)
        self.assertEqual(failed.error.name, "ValidationFailed")
        self.assertEqual(failed.to_dict()["run_id"], failed.run_id)
        self.assertIn(f"#{big.id}", repr(big))

    def test_filters_select_runs(self):
        self.assertEqual([r.ok for r in self.history.runs(ok=False)], [False])
        self.assertEqual([r.final_state for r in self.history.runs(state="main/big")], ["main/big"])
        newest = self.history.runs(limit=2)
        self.assertEqual([r.run_id for r in newest], [r.run_id for r in self.results[1:]])
        self.assertEqual(self.history.runs(workflow="other"), [])
        self.assertEqual(len(self.history.runs(runs=[self.results[0].run_id[:12]])), 1)
        with self.assertRaises(TypeError):
            self.history.runs(False)  # the filter is keywords only

    def test_a_run_and_its_steps(self):
        run = self.history.run(self.results[0].run_id[:10])
        self.assertEqual(run.run_id, self.results[0].run_id)
        self.assertEqual(self.history.run(f"#{run.id}").run_id, run.run_id)
        steps = self.history.steps(run)
        self.assertEqual([s.qualified for s in steps], ["main/validate", "main/big"])
        self.assertEqual([s.via for s in steps], ["start", "arc"])
        self.assertEqual(steps[0].arc, "main/big")
        self.assertEqual(steps[1].status, "end")
        self.assertEqual(steps[1].parent, steps[0].seq)
        self.assertEqual(steps[1].changes, {"set": {"route": "desk"}})
        self.assertEqual([s.seq for s in self.history.steps(run.run_id)], [s.seq for s in steps])
        failed = self.history.steps(self.results[2].run_id)
        self.assertEqual(failed[-1].status, "failed")
        self.assertEqual(failed[-1].error.name, "ValidationFailed")
        with self.assertRaises(statenet.HistoryError):
            self.history.run("no-such-run")

    def test_stats(self):
        stats = self.history.stats()
        self.assertEqual((stats.runs, stats.ok, stats.failed), (3, 2, 1))
        by_state = {s.state: s for s in stats.states}
        self.assertEqual(by_state["main/validate"].entries, 3)
        self.assertEqual(by_state["main/validate"].failures, 1)
        self.assertEqual([(e.name, e.runs) for e in stats.errors], [("ValidationFailed", 1)])
        self.assertEqual(self.history.stats(ok=True).runs, 2)

    def test_parked_and_prune(self):
        self.assertEqual(self.history.parked(), [])
        self.assertEqual(self.history.prune(max_runs=1), 2)
        self.assertEqual([r.run_id for r in self.history.runs()], [self.results[2].run_id])
        self.assertEqual(str(self.history.path), self.db)

    def test_a_missing_database_raises(self):
        with self.assertRaises(statenet.HistoryError):
            statenet.History(self.scratch.file("missing.db"))


if __name__ == "__main__":
    unittest.main()
