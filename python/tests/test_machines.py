"""statenet.Machines from Python: start, send, show, tick, reload and the outbox."""

import os
import unittest

import statenet
from workflows import Scratch


class MachinesTest(unittest.TestCase):
    def setUp(self):
        self.scratch = Scratch()
        self.engine = statenet.Engine()

    def tearDown(self):
        self.scratch.close()

    def test_events_move_instances_and_emit(self):
        machines = statenet.Machines(self.engine, self.scratch.file("talker.toml"))
        self.assertEqual(machines.start("a", {"peer": "b"}).status, "applied")
        self.assertEqual(machines.start("a").status, "duplicate")
        sent = machines.send("a", "work", {"job": "sweep"}, key="k1")
        self.assertEqual((sent.status, sent.from_state, sent.to_state), ("applied", "main/idle", "main/busy"))
        self.assertEqual(machines.send("a", "work", {"job": "sweep"}, key="k1").status, "duplicate")
        self.assertEqual(machines.send("a", "nonsense").status, "rejected")
        instance = machines.show("a")
        self.assertEqual((instance.state, instance.data["job"], instance.version), ("main/busy", "sweep", 2))  # start and work
        self.assertEqual(machines.accepts("a"), ["finish"])
        self.assertTrue(machines.send("a", "finish").completed)
        self.assertEqual(machines.tick(), [])

        messages = machines.outbox()
        self.assertEqual([(m.instance, m.topic, m.payload) for m in messages], [("a", "reply", {"text": "working on sweep"})])
        self.assertEqual(machines.ack([messages[0].seq]), 1)
        self.assertEqual(machines.outbox(), [])
        self.assertEqual(machines.census()["by_state"], {"main/done": 1})

    def test_listeners_are_called_with_the_gil(self):
        machines = statenet.Machines(self.engine, self.scratch.file("talker.toml"))
        seen = []
        listener = machines.subscribe(lambda result, sent: seen.append((result.event, [m.topic for m in sent])))
        machines.start("a")
        machines.send("a", "work", {"job": "dust"})
        machines.unsubscribe(listener)
        machines.send("a", "finish")
        self.assertEqual(seen, [("start", []), ("work", ["reply"])])

    def test_unknown_instances_raise_not_found(self):
        machines = statenet.Machines(self.engine, self.scratch.file("talker.toml"))
        with self.assertRaises(statenet.NotFound):
            machines.send("ghost", "work")
        with self.assertRaises(statenet.NotFound):
            machines.show("ghost")
        self.assertIsNone(machines.get("ghost"))

    def test_push_arcs_keep_a_stack(self):
        store = self.scratch.file("form.db")
        machines = statenet.Machines(self.engine, self.scratch.file("form.toml"), store)
        machines.start("f", {"user": "ana"})
        self.assertEqual(machines.send("f", "open").to_state, "form/ask")
        del machines
        reopened = statenet.Machines(self.engine, self.scratch.file("form.toml"), store)
        stack = reopened.show("f").stack
        self.assertEqual([(s.state, s.network, s.return_to) for s in stack], [("main/idle", "form", "main/review")])
        self.assertTrue(reopened.send("f", "answer", 42).completed)
        instance = reopened.show("f")
        self.assertEqual((instance.state, instance.data, instance.stack), ("main/review", {"user": "ana", "answer": 42}, []))

    def test_durable_store_and_reload(self):
        store = self.scratch.file("machines.db")
        machines = statenet.Machines(self.engine, self.scratch.file("talker.toml"), store)
        machines.start("x")
        machines.send("x", "work", {"job": "mop"})
        del machines
        reopened = statenet.Machines(self.engine, self.scratch.file("talker.toml"), store)
        self.assertEqual(reopened.show("x").state, "main/busy")
        self.assertIsNone(reopened.reload_if_changed())
        self.assertTrue(reopened.reload().ok)
        with self.assertRaises(statenet.Error):
            statenet.Machines(self.engine, self.scratch.file("talker.toml"), os.path.join(self.scratch.path, "no", "such.db"))


if __name__ == "__main__":
    unittest.main()
