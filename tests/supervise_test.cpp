// Hierarchical supervision: children derived, reconciled, mapped and supervised
// (examples/protocol-converter, examples/game-squad, tests/workflows/supervise/).
#include "machines_helpers.hpp"

#include <SQLiteCpp/SQLiteCpp.h>

#include <doctest/doctest.h>

#include <algorithm>

using namespace statenet;
using namespace machines_test;

namespace {

const fs::path converter_workflow = source_dir / "examples/protocol-converter/converter.lua";
const fs::path squad_workflow = source_dir / "examples/game-squad/squad.lua";
const fs::path supervise_dir = source_dir / "tests/workflows/supervise";

struct Tree {
    std::shared_ptr<ManualClock> clock = std::make_shared<ManualClock>(1'000'000);
    Engine engine;
    Supervisor supervisor;

    explicit Tree(const fs::path& workflow, fs::path store = {}, std::shared_ptr<ManualClock> shared = nullptr)
        : clock(shared ? shared : std::make_shared<ManualClock>(1'000'000)),
          supervisor(engine, workflow, Chat::options(std::move(store), clock)) {}

    Machines& kind(const char* path) { return *supervisor.machines(path); }
    std::string state(const char* path, const std::string& id) {
        auto info = kind(path).get(id);
        return info ? info->state : std::string("(gone)");
    }
    TreeNode node(const std::string& id) { return *supervisor.tree(id); }
    /// Names of `id`'s children in the tree, in order.
    std::vector<std::string> children(const std::string& id) {
        std::vector<std::string> names;
        for (const auto& c : node(id).children) names.push_back(c.name);
        return names;
    }
    const TreeNode* child(const TreeNode& parent, const std::string& name) {
        for (const auto& c : parent.children)
            if (c.name == name) return &c;
        return nullptr;
    }
};

const char* plc = R"({"host": "10.0.0.5", "port": 502, "site": "plant-a", "flows": ["temp", "pressure"]})";

std::size_t audited(Machines& m, const std::string& id, const std::string& event) {
    const auto rows = m.audit(id);
    return static_cast<std::size_t>(
        std::count_if(rows.begin(), rows.end(), [&](const AuditEntry& a) { return a.event == event; }));
}

}  // namespace

TEST_CASE("supervise - a new spec starts a child, its templates rendered") {
    Tree t(converter_workflow);
    t.supervisor.machines().start("c1", json(plc));
    const SuperviseReport r = t.supervisor.tick();
    CHECK(r.errors.empty());
    CHECK(r.started == 3);
    CHECK(t.children("c1") == std::vector<std::string>{"connection", "flow-pressure", "flow-temp"});
    auto conn = t.kind("connection").get("c1/connection");
    REQUIRE(conn);
    CHECK(conn->data["address"].as_string() == "10.0.0.5:502");
    CHECK(conn->data["region"].as_string() == "eu-1");  // global: the root workflow's vars
    auto flow = t.kind("flow").get("c1/flow-temp");
    CHECK(flow->data["topic"].as_string() == "umh/eu-1/plant-a/temp");
    CHECK(flow->data["connection"].as_string() == "c1/connection");  // internal.id
    // Nothing changed: the next tick starts nothing.
    CHECK(t.supervisor.tick().started == 0);
}

TEST_CASE("supervise - a changed spec reaches the child as spec_changed, without a restart") {
    Tree t(converter_workflow);
    t.supervisor.machines().start("c1", json(plc));
    t.supervisor.tick();
    t.supervisor.machines().send("c1", "configure", json(R"({"port": 503})"));
    const SuperviseReport r = t.supervisor.tick();
    CHECK(r.updated == 1);
    CHECK(r.started == 0);
    auto conn = t.kind("connection").get("c1/connection");
    CHECK(conn->data["address"].as_string() == "10.0.0.5:503");
    CHECK(conn->data["reconfigured"].as_int() == 1);
    CHECK(audited(t.kind("connection"), "c1/connection", "start") == 1);  // never restarted
    CHECK(t.node("c1").children[0].spec["address"].as_string() == "10.0.0.5:503");
    // The flows' specs did not change: they got nothing.
    CHECK(audited(t.kind("flow"), "c1/flow-temp", "spec_changed") == 0);
}

TEST_CASE("supervise - a removed spec stops the child, deleted at its end state") {
    Tree t(converter_workflow);
    t.supervisor.machines().start("c1", json(plc));
    t.supervisor.tick();
    t.supervisor.machines().send("c1", "configure", json(R"({"flows": ["temp"]})"));
    const SuperviseReport r = t.supervisor.tick();
    CHECK(r.stopping == 1);
    CHECK(r.removed == 1);
    CHECK(t.children("c1") == std::vector<std::string>{"connection", "flow-temp"});
    CHECK_FALSE(t.kind("flow").get("c1/flow-pressure"));
    // Added again: a new child, from its start state.
    t.supervisor.machines().send("c1", "configure", json(R"({"flows": ["temp", "pressure"]})"));
    CHECK(t.supervisor.tick().started == 1);
    CHECK(t.state("flow", "c1/flow-pressure") == "flow/idle");
}

TEST_CASE("supervise - a child that ignores stop is removed by force after removal_timeout_ms") {
    Tree t(supervise_dir / "holder.lua");
    t.supervisor.machines().start("h", json(R"({"names": ["a", "b"], "size": 3})"));
    t.supervisor.tick();
    CHECK(t.kind("stubborn").get("h/a")->data["label"].as_string() == "h-3");
    t.supervisor.machines().send("h", "set", json(R"({"names": ["b"]})"));
    SuperviseReport r = t.supervisor.tick();
    CHECK(r.stopping == 1);
    CHECK(r.removed == 0);
    const TreeNode node = t.node("h");
    REQUIRE(t.child(node, "a"));
    CHECK(t.child(node, "a")->status == "stopping");
    CHECK(t.child(node, "a")->note.find("stop rejected") != std::string::npos);
    t.clock->advance(999);
    CHECK(t.supervisor.tick().forced == 0);
    t.clock->advance(1);
    r = t.supervisor.tick();
    CHECK(r.forced == 1);
    CHECK(t.children("h") == std::vector<std::string>{"b"});
    CHECK_FALSE(t.kind("stubborn").get("h/a"));
}

TEST_CASE("supervise - a stubborn child that reaches its end state on its own is deleted before the timeout") {
    Tree t(supervise_dir / "holder.lua");
    t.supervisor.machines().start("h", json(R"({"names": ["a"], "size": 1})"));
    t.supervisor.tick();
    t.supervisor.machines().send("h", "set", json(R"({"names": []})"));
    t.supervisor.tick();
    t.kind("stubborn").send("h/a", "done");
    CHECK(t.supervisor.tick().removed == 1);
    CHECK(t.children("h").empty());
}

TEST_CASE("supervise - the parent's state maps to each child's state") {
    Tree t(converter_workflow);
    t.supervisor.machines().start("c1", json(plc));
    t.supervisor.tick();
    CHECK(t.state("connection", "c1/connection") == "connection/down");  // stopped -> down: already there
    t.supervisor.machines().send("c1", "start");
    const SuperviseReport r = t.supervisor.tick();
    CHECK(r.mapped == 3);
    CHECK(t.state("connection", "c1/connection") == "connection/up");
    CHECK(t.state("flow", "c1/flow-temp") == "flow/active");
    t.supervisor.machines().send("c1", "stop");
    t.supervisor.tick();
    CHECK(t.state("connection", "c1/connection") == "connection/down");
    CHECK(t.state("flow", "c1/flow-temp") == "flow/idle");
}

TEST_CASE("supervise - hybrid control: a child's own move stands until the parent's state changes") {
    Tree t(converter_workflow);
    t.supervisor.machines().start("c1", json(plc));
    t.supervisor.machines().send("c1", "start");
    t.supervisor.tick();
    CHECK(t.state("connection", "c1/connection") == "connection/up");
    t.kind("connection").send("c1/connection", "disconnect");  // the child acts on its own
    t.supervisor.tick();
    CHECK(t.state("connection", "c1/connection") == "connection/down");
    t.supervisor.machines().send("c1", "stop");
    t.supervisor.tick();
    t.supervisor.machines().send("c1", "start");  // entering running again maps again
    t.supervisor.tick();
    CHECK(t.state("connection", "c1/connection") == "connection/up");
}

TEST_CASE("supervise - state mapping reaches two levels down") {
    Tree t(supervise_dir / "fleet.lua");
    t.supervisor.machines().start("f", json(R"({"sites": ["north"], "gateway": "10.1.0.1"})"));
    const SuperviseReport r = t.supervisor.tick();
    const std::string first_error = r.errors.empty() ? std::string() : r.errors[0];
    INFO(first_error);
    CHECK(r.errors.empty());
    CHECK(t.state("converter", "f/north") == "converter/stopped");
    CHECK(t.state("converter.connection", "f/north/connection") == "connection/down");
    auto conn = t.kind("converter.connection").get("f/north/connection");
    REQUIRE(conn);
    CHECK(conn->data["address"].as_string() == "10.1.0.1:502");
    CHECK(conn->data["region"].as_string() == "eu-2");  // the root's vars, not the converter's
    t.supervisor.machines().send("f", "go");
    t.supervisor.tick();
    CHECK(t.state("converter", "f/north") == "converter/running");
    CHECK(t.state("converter.connection", "f/north/connection") == "connection/up");
    CHECK(t.state("converter.flow", "f/north/flow-temp") == "flow/active");
    const TreeNode node = t.node("f");
    REQUIRE(node.children.size() == 1);
    CHECK(node.children[0].children.size() == 2);
    CHECK(t.supervisor.kinds() == std::vector<std::string>{"converter", "converter.connection", "converter.flow"});
}

TEST_CASE("supervise - failing health checks open the breaker: children held, nothing new starts") {
    Tree t(converter_workflow);
    t.supervisor.machines().start("c1", json(plc));
    t.supervisor.machines().send("c1", "start");
    t.supervisor.tick();
    t.supervisor.machines().send("c1", "configure", json(R"({"broker_up": false})"));
    CHECK(t.supervisor.tick().held == 0);  // one failure
    CHECK(t.node("c1").breaker == "closed");
    t.supervisor.tick();
    CHECK(t.supervisor.tick().held == 1);  // the third: open
    TreeNode node = t.node("c1");
    CHECK(node.breaker == "open");
    CHECK(node.note == "broker unreachable");
    // Open: a new flow is not started, the active flows' timers do not fire.
    const auto batches = [&] {
        auto data = t.kind("flow").get("c1/flow-temp")->data;
        return data.contains("batches") ? data["batches"].as_int() : 0;
    };
    const auto before = batches();
    t.supervisor.machines().send("c1", "configure", json(R"({"flows": ["temp", "pressure", "flow"]})"));
    t.clock->advance(999);
    CHECK(t.supervisor.tick().held == 1);
    CHECK(batches() == before);
    CHECK_FALSE(t.kind("flow").get("c1/flow-flow"));
}

TEST_CASE("supervise - the breaker goes half-open after its back-off, doubles it on failure, closes on success") {
    Tree t(converter_workflow);
    t.supervisor.machines().start("c1", json(R"({"host": "h", "port": 1, "site": "s", "broker_up": false})"));
    for (int i = 0; i < 3; ++i) t.supervisor.tick();
    CHECK(t.node("c1").breaker == "open");
    t.supervisor.machines().send("c1", "configure", json(R"({"flows": ["x"]})"));
    t.clock->advance(1000);  // half-open: one check, fails: open for 2000 ms
    CHECK(t.supervisor.tick().held == 1);
    CHECK(t.node("c1").breaker == "open");
    t.clock->advance(1999);
    CHECK(t.supervisor.tick().held == 1);
    t.supervisor.machines().send("c1", "configure", json(R"({"broker_up": true})"));
    CHECK(t.supervisor.tick().held == 1);  // still inside the back-off: not checked
    t.clock->advance(1);
    const SuperviseReport r = t.supervisor.tick();
    CHECK(r.held == 0);
    CHECK(r.started == 1);  // closed: the flow asked for while open starts
    CHECK(t.node("c1").breaker == "closed");
}

TEST_CASE("supervise - a template naming an unknown variable is an error naming it, nothing starts") {
    Tree t(supervise_dir / "holder.lua");
    t.supervisor.machines().start("h", json(R"({"names": ["a"], "template": "{{ user.host }}:{{ user.prot }}",
                                                "host": "x"})"));
    SuperviseReport r = t.supervisor.tick();
    REQUIRE(r.errors.size() == 1);
    CHECK(r.errors[0] ==
          "h: child 'a': template '{{ user.host }}:{{ user.prot }}' names an unknown variable 'user.prot'");
    CHECK(r.started == 0);
    t.supervisor.machines().send("h", "set", json(R"({"template": "{{ secrets.key }}"})"));
    r = t.supervisor.tick();
    REQUIRE(r.errors.size() == 1);
    CHECK(r.errors[0].find("variables start with user., global. or internal.") != std::string::npos);
    t.supervisor.machines().send("h", "set", json(R"({"template": "{{ user.host }}"})"));
    r = t.supervisor.tick();
    CHECK(r.errors.empty());
    CHECK(r.started == 1);
}

TEST_CASE("supervise - a failing children function and an undeclared workflow are errors with their place") {
    Tree t(supervise_dir / "holder.lua");
    t.supervisor.machines().start("h", json(R"({"names": ["a"], "size": 1, "explode": true})"));
    SuperviseReport r = t.supervisor.tick();
    REQUIRE(r.errors.size() == 1);
    CHECK(r.errors[0].find("holder.lua:") != std::string::npos);
    CHECK(r.errors[0].find("no children today") != std::string::npos);
    t.supervisor.machines().send("h", "set", json(R"({"explode": false, "workflow": "nope"})"));
    r = t.supervisor.tick();
    REQUIRE(r.errors.size() == 1);
    INFO(r.errors[0]);
    CHECK(r.errors[0].find("workflow 'nope' is not declared in [machines]") != std::string::npos);
}

TEST_CASE("supervise - a child that completes is restarted; too many restarts escalate as child_failed") {
    Tree t(converter_workflow);
    t.supervisor.machines().start("c1", json(plc));
    t.supervisor.machines().send("c1", "start");
    t.supervisor.tick();
    for (int crash = 1; crash <= 2; ++crash) {
        t.kind("connection").send("c1/connection", "crash");
        const SuperviseReport r = t.supervisor.tick();
        CHECK(r.restarted == 1);
        CHECK(t.state("connection", "c1/connection") == "connection/up");  // started and mapped again
    }
    t.kind("connection").send("c1/connection", "crash");
    const SuperviseReport r = t.supervisor.tick();
    CHECK(r.escalated == 1);
    CHECK(t.supervisor.machines().get("c1")->state == "converter/degraded");
    const TreeNode node = t.node("c1");
    CHECK(t.child(node, "connection")->status == "failed");
    // Flows map to idle in degraded (on the next tick: the event came during this one).
    t.supervisor.tick();
    CHECK(t.state("flow", "c1/flow-temp") == "flow/idle");
    // A new spec gives the failed child a fresh start.
    t.supervisor.machines().send("c1", "configure", json(R"({"port": 1502})"));
    t.supervisor.machines().send("c1", "recover");
    t.supervisor.tick();
    CHECK(t.state("connection", "c1/connection") == "connection/up");
    CHECK(t.child(t.node("c1"), "connection")->status == "running");
}

TEST_CASE("supervise - the tree survives a restart of the process") {
    auto dir = scratch("supervise_durable");
    auto clock = std::make_shared<ManualClock>(1'000'000);
    {
        Tree t(converter_workflow, dir / "conv.db", clock);
        t.supervisor.machines().start("c1", json(plc));
        t.supervisor.machines().send("c1", "start");
        t.supervisor.tick();
    }
    CHECK(fs::exists(dir / "conv.connection.db"));
    CHECK(fs::exists(dir / "conv.flow.db"));
    Tree t(converter_workflow, dir / "conv.db", clock);
    CHECK(t.children("c1") == std::vector<std::string>{"connection", "flow-pressure", "flow-temp"});
    const SuperviseReport r = t.supervisor.tick();
    CHECK(r.started == 0);
    CHECK(r.mapped == 0);
    CHECK(r.errors.empty());
    CHECK(audited(t.kind("connection"), "c1/connection", "start") == 1);
    // And reconciles from there: a removed flow goes.
    t.supervisor.machines().send("c1", "configure", json(R"({"flows": []})"));
    CHECK(t.supervisor.tick().removed == 2);
}

TEST_CASE("supervise - a process that died in the middle of a reconcile resumes it") {
    auto dir = scratch("supervise_crash");
    auto clock = std::make_shared<ManualClock>(1'000'000);
    {
        Tree t(converter_workflow, dir / "conv.db", clock);
        t.supervisor.machines().start("c1", json(plc));
        t.supervisor.tick();
    }
    // What the store holds when the process died after writing each step to the tree
    // and before acting on it: a start not done, a spec_changed not delivered, a stop
    // not sent.
    {
        SQLite::Database flows((dir / "conv.flow.db").string(), SQLite::OPEN_READWRITE);
        flows.exec("DELETE FROM statenet_instances WHERE id = 'c1/flow-temp'");
        SQLite::Database tree((dir / "conv.db").string(), SQLite::OPEN_READWRITE);
        tree.exec("UPDATE statenet_children SET status = 'starting' WHERE name = 'flow-temp'");
        tree.exec(
            "UPDATE statenet_children SET status = 'updating', spec_version = 2, "
            "entry = json_set(entry, '$.spec.address', '10.0.0.9:502') WHERE name = 'connection'");
        tree.exec("UPDATE statenet_children SET status = 'stopping', since_ms = 1000000 WHERE name = 'flow-pressure'");
        // The converter's own data says what the tree says (its port is the new one).
        SQLite::Database root((dir / "conv.db").string(), SQLite::OPEN_READWRITE);
        root.exec(
            "UPDATE statenet_instances SET data = json_set(json_set(data, '$.host', '10.0.0.9'), '$.flows', "
            "json('[\"temp\"]')) WHERE id = 'c1'");
    }
    for (int reopen = 0; reopen < 2; ++reopen) {
        Tree t(converter_workflow, dir / "conv.db", clock);
        const SuperviseReport r = t.supervisor.tick();
        CHECK(r.errors.empty());
        CHECK(r.started == (reopen == 0 ? 1 : 0));
        CHECK(t.state("flow", "c1/flow-temp") == "flow/idle");
        CHECK(t.kind("connection").get("c1/connection")->data["address"].as_string() == "10.0.0.9:502");
        CHECK(audited(t.kind("connection"), "c1/connection", "spec_changed") == 1);  // once, however often
        CHECK_FALSE(t.kind("flow").get("c1/flow-pressure"));
        CHECK(t.children("c1") == std::vector<std::string>{"connection", "flow-temp"});
    }
}

TEST_CASE("supervise - the game squad: members come and go, stances follow the squad, a dying NPC respawns") {
    Tree t(squad_workflow);
    t.supervisor.machines().start("alpha",
                                  json(R"({"members": ["ana", "bo"], "weapon": "bow", "formation": "wedge"})"));
    t.supervisor.tick();
    CHECK(t.kind("npc").get("alpha/ana")->data["weapon"].as_string() == "bow");
    CHECK(t.kind("npc").get("alpha/ana")->data["squad"].as_string() == "alpha");
    t.supervisor.machines().send("alpha", "enemy_spotted");
    t.supervisor.tick();
    CHECK(t.state("npc", "alpha/ana") == "npc/fight");
    CHECK(t.state("npc", "alpha/bo") == "npc/fight");
    t.kind("npc").send("alpha/bo", "take_cover");  // its own call
    t.supervisor.machines().send("alpha", "order", json(R"({"weapon": "sword", "members": ["ana", "bo", "cy"]})"));
    SuperviseReport r = t.supervisor.tick();
    CHECK(r.updated == 2);
    CHECK(r.started == 1);
    CHECK(t.state("npc", "alpha/bo") == "npc/cover");
    CHECK(t.kind("npc").get("alpha/bo")->data["weapon"].as_string() == "sword");
    CHECK(t.state("npc", "alpha/cy") == "npc/fight");  // a newcomer takes the squad's stance
    for (int death = 0; death < 2; ++death) {
        t.kind("npc").send("alpha/ana", "die");
        CHECK(t.supervisor.tick().restarted == 1);
    }
    t.kind("npc").send("alpha/ana", "die");
    CHECK(t.supervisor.tick().escalated == 1);
    CHECK(t.supervisor.machines().get("alpha")->state == "squad/retreat");
    t.supervisor.tick();
    CHECK(t.state("npc", "alpha/bo") == "npc/flee");
    t.supervisor.machines().send("alpha", "disband");
    r = t.supervisor.tick();
    CHECK(r.removed == 3);
    CHECK(t.children("alpha").empty());
}

TEST_CASE("supervise - children and supervision keys are checked at load") {
    auto dir = scratch("supervise_load");
    write(dir / "bad.toml", R"(name = "bad"
[machines.conn]
workflow = "missing.toml"

[supervision]
breaker_failures = 0

[networks.n.states.a]
start = true
children = 3
)");
    Engine engine;
    try {
        Supervisor s(engine, dir / "bad.toml");
        FAIL("loaded");
    } catch (const LoadError& e) {
        std::string all;
        for (const auto& d : e.diagnostics()) all += d.str() + "\n";
        CHECK(all.find("bad.toml:3:12: child workflow") != std::string::npos);
        CHECK(all.find("missing.toml' does not exist") != std::string::npos);
        CHECK(all.find("bad.toml:6:") != std::string::npos);
        CHECK(all.find("bad.toml:10:") != std::string::npos);
    }
}
