// Machines: clocks and timers, loops of immediate arcs, declaration errors, refused features and hot reload.
#include "machines_helpers.hpp"

#include <statenet/statenet.hpp>

#include <SQLiteCpp/SQLiteCpp.h>
#include <doctest/doctest.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

using statenet::Engine;
using statenet::InstanceInfo;
using statenet::Machines;
using statenet::MachinesOptions;
using statenet::ManualClock;
using statenet::SendStatus;
using statenet::Value;

namespace fs = std::filesystem;
using machines_test::Chat;
using machines_test::chat_workflow;
using machines_test::json;
using machines_test::minute;
using machines_test::npc_dir;
using machines_test::scratch;
using machines_test::write;

TEST_CASE("machines - step(dt) needs a ManualClock; tick takes any time") {
    auto dir = scratch("clocks");
    Engine engine;
    MachinesOptions options;
    options.store = dir / "store.db";  // default clock: the wall clock
    Machines m(engine, chat_workflow, options);
    CHECK_THROWS_AS(m.step(16), std::logic_error);
    m.start("s1");
    const double started = m.get("s1")->since_ms;
    CHECK(started > 1.7e12);  // ms since the Unix epoch
    m.send("s1", "start_update");
    m.send("s1", "message", json(R"({"text":"help"})"));
    CHECK(m.tick().empty());
    CHECK(m.tick(started + 6 * minute).size() == 1);
    CHECK(m.list({.include_completed = false}).empty());
    CHECK(m.list({.limit = 1}).size() == 1);
}

TEST_CASE("machines - timer arcs fire earliest first; a held-back timer moves on to the next") {
    auto dir = scratch("timers");
    write(dir / "wf.toml", R"(
name = "timers"
[networks.main.states.wait]
start = true
[[networks.main.states.wait.arcs]]
to = "early"
after_ms = 1000
when = { lua = "data.ready == true" }
[[networks.main.states.wait.arcs]]
to = "late"
after_ms = 2000
priority = 5
[[networks.main.states.wait.arcs]]
to = "wait"
on = "poke"
transform = { lua = "data.ready = true" }
[networks.main.states.early]
end = true
[networks.main.states.late]
end = true
)");
    Engine engine;
    Machines m(engine, dir / "wf.toml");
    m.start("held", json(R"({"ready":false})"));
    m.start("ready", json(R"({"ready":true})"));
    CHECK(*m.get("held")->timer_due_ms == 1000);
    auto first = m.tick(1500);
    REQUIRE(first.size() == 1);  // "held" is held back by its condition, without an audit row
    CHECK(first[0].instance == "ready");
    CHECK(first[0].to == "main/early");
    CHECK(*m.get("held")->timer_due_ms == 2000);
    CHECK(m.audit("held").size() == 1);
    auto second = m.tick(2500);
    REQUIRE(second.size() == 1);
    CHECK(second[0].to == "main/late");
    CHECK(second[0].event == "after_ms=2000");

    // An applied event re-enters the state and restarts its timers.
    m.start("poked", json(R"({"ready":false})"));
    CHECK(*m.get("poked")->timer_due_ms == 1000);
    CHECK(m.step(500) == 0);  // the in-memory store's game clock: now 500
    m.send("poked", "poke");
    CHECK(*m.get("poked")->timer_due_ms == 1500);
    CHECK(m.tick(1499).empty());
    CHECK(m.tick(1500).at(0).to == "main/early");
}

TEST_CASE("machines - an endless loop of immediate arcs is rejected with MaxTransitions") {
    auto dir = scratch("loop");
    write(dir / "wf.toml", R"(
name = "loop"
max_transitions = 50
[networks.main.states.a]
start = true
[[networks.main.states.a.arcs]]
to = "b"
on = "go"
[networks.main.states.b]
[[networks.main.states.b.arcs]]
to = "c"
[networks.main.states.c]
[[networks.main.states.c.arcs]]
to = "b"
)");
    Engine engine;
    Machines m(engine, dir / "wf.toml");
    m.start("x");
    auto r = m.send("x", "go");
    CHECK(r.status == SendStatus::rejected);
    REQUIRE(r.error);
    CHECK(r.error->name == "MaxTransitions");
    CHECK(m.get("x")->state == "main/a");
}

TEST_CASE("machines - record runs never fire event or timer arcs") {
    Engine engine;
    auto wf = engine.load_string(R"(
name = "records"
[networks.main.states.a]
start = true
[[networks.main.states.a.arcs]]
to = "b"
on = "go"
priority = 10
[[networks.main.states.a.arcs]]
to = "c"
after_ms = 0
[[networks.main.states.a.arcs]]
to = "d"
when = { lua = "data.x == 1" }
[networks.main.states.b]
end = true
[networks.main.states.c]
end = true
[networks.main.states.d]
end = true
)",
                                 "records.toml");
    auto ok = wf.process(json(R"({"x":1})"));
    CHECK(ok.ok);
    CHECK(ok.final_state == "main/d");
    auto waiting = wf.process(json(R"({"x":2})"));
    CHECK_FALSE(waiting.ok);
    REQUIRE(waiting.error);
    CHECK(waiting.error->name == "NoTransition");
    CHECK(waiting.error->message ==
          "no valid transition from state a (its 'on' and 'after_ms' arcs fire only for machines)");
}

TEST_CASE("machines - bad event, timer, any and recovery declarations are load errors with their place") {
    Engine engine;
    auto errors = [&](const char* text) {
        try {
            engine.load_string(text, "bad.toml");
        } catch (const statenet::LoadError& e) {
            std::string all;
            for (const auto& d : e.diagnostics()) all += d.str() + "\n";
            return all;
        }
        return std::string("loaded");
    };
    const char* states = R"(
[networks.main.states.a]
start = true
[networks.main.states.b]
end = true
)";
    CHECK(errors((std::string("name = \"x\"\n") + states + R"(
[[networks.main.states.a.arcs]]
to = "b"
on = ""
)")
                     .c_str()) == "bad.toml:10:6: 'on' must name an event, not be empty\n");
    CHECK(errors((std::string("name = \"x\"\n") + states + R"(
[[networks.main.states.a.arcs]]
to = "b"
after_ms = -5
)")
                     .c_str()) == "bad.toml:10:12: 'after_ms' must be a non-negative number\n");
    CHECK(errors((std::string("name = \"x\"\n") + states + R"(
[[networks.main.states.a.arcs]]
to = "b"
on = "go"
after_ms = 5
)")
                     .c_str()) == "bad.toml:8:1: an arc has either 'on' or 'after_ms', not both\n");
    CHECK(errors((std::string("name = \"x\"\n") + states + R"(
[[networks.main.any.arcs]]
to = "nowhere"
on = "go"
)")
                     .c_str()) == "bad.toml:9:6: arc 'to': unknown state 'nowhere' in network 'main'\n");
    CHECK(
        errors((std::string("name = \"x\"\n[recovery]\nidle_ms = 0\nevent = 3\n") + states).c_str()) ==
        "bad.toml:3:11: 'idle_ms' must be a positive number\nbad.toml:4:9: 'event' must be a string, not an integer\n");
    CHECK(errors((std::string("name = \"x\"\n") + states + R"(
[networks.main.any]
arc = []
)")
                     .c_str())
              .find("unknown key 'arc' in [networks.main.any]") != std::string::npos);
}

TEST_CASE("machines - features machines cannot run yet are refused at open") {
    auto dir = scratch("refused");
    write(dir / "wf.toml", R"(
name = "refused"
[networks.main.states.a]
start = true
wait = { signal = "go" }
[[networks.main.states.a.arcs]]
to = "b"
[networks.main.states.b]
end = true
)");
    Engine engine;
    try {
        Machines m(engine, dir / "wf.toml");
        FAIL("opened");
    } catch (const statenet::LoadError& e) {
        REQUIRE(e.diagnostics().size() == 1);
        CHECK(e.diagnostics()[0].str() == (dir / "wf.toml").string() +
                                              ":5:8: 'wait' (state 'main/a') is for records: a machine instance "
                                              "waits for events in every state; use an arc with on = \"go\"");
    }
}

TEST_CASE("machines - game NPCs step per frame and keep their state through a hot reload") {
    auto dir = scratch("npc");
    fs::create_directories(dir / "lua");
    fs::copy_file(npc_dir / "npc.toml", dir / "npc.toml");
    fs::copy_file(npc_dir / "lua/npc.lua", dir / "lua/npc.lua");
    Engine engine;
    Machines m(engine, dir / "npc.toml");  // in-memory store, game time from step(dt)
    for (int i = 0; i < 40; ++i) m.start("npc" + std::to_string(i), Value::object({{"hp", Value(i < 20 ? 100 : 30)}}));
    CHECK(m.step(16) == 0);
    CHECK_THROWS_AS(m.post("npc999", "see_player"), std::invalid_argument);
    for (int frame = 0; frame < 130; ++frame) m.step(16);  // ~2.1 s: everyone got bored
    CHECK(m.list({.state = "patrol"}).size() == 40);
    CHECK(m.get("npc0")->data["waypoint"] == Value(1));
    m.post("npc0", "see_player");
    m.post("npc30", "see_player");
    m.post("npc31", "hit", json(R"({"damage":30})"));
    CHECK(m.step(16) == 3);
    CHECK(m.get("npc0")->state == "npc/chase");
    CHECK(m.get("npc30")->state == "npc/flee");
    CHECK(m.get("npc31")->state == "npc/dead");

    std::string lua;
    {
        std::ifstream in(dir / "lua/npc.lua");
        lua.assign(std::istreambuf_iterator<char>(in), {});
    }
    // A broken edit is refused and the old logic keeps running.
    write(dir / "lua/npc.lua", "return {");
    auto broken = m.reload_if_changed();
    REQUIRE(broken);
    CHECK_FALSE(broken->ok);
    REQUIRE_FALSE(broken->errors.empty());
    m.post("npc32", "see_player");
    m.step(16);
    CHECK(m.get("npc32")->state == "npc/flee");
    CHECK_FALSE(m.reload_if_changed());  // nothing changed since the failed attempt

    // Braver NPCs: hp 30 is now enough to chase.
    auto pos = lua.find("local courage = 50");
    REQUIRE(pos != std::string::npos);
    lua.replace(pos, 18, "local courage = 25");
    std::vector<InstanceInfo> before = m.list();
    write(dir / "lua/npc.lua", lua);
    auto reloaded = m.reload_if_changed();
    REQUIRE(reloaded);
    CHECK(reloaded->ok);
    CHECK(reloaded->orphaned.empty());
    std::vector<InstanceInfo> after = m.list();
    REQUIRE(after.size() == before.size());
    for (std::size_t i = 0; i < after.size(); ++i) {
        CHECK(after[i].state == before[i].state);
        CHECK(after[i].data == before[i].data);
    }
    m.post("npc33", "see_player");
    m.step(16);
    CHECK(m.get("npc33")->state == "npc/chase");
}

TEST_CASE("machines - reload reports instances whose state disappeared and keeps them") {
    auto dir = scratch("orphans");
    const char* v1 = R"(
name = "v"
[networks.main.states.a]
start = true
[[networks.main.states.a.arcs]]
to = "b"
on = "go"
[networks.main.states.b]
[[networks.main.states.b.arcs]]
to = "a"
on = "back"
)";
    write(dir / "wf.toml", v1);
    Engine engine;
    MachinesOptions options;
    options.store = dir / "store.db";
    options.clock = std::make_shared<ManualClock>(0);
    Machines m(engine, dir / "wf.toml", options);
    m.start("in_a", json(R"({"k":1})"));
    m.start("in_b", json(R"({"k":2})"));
    m.send("in_b", "go");
    write(dir / "wf.toml", R"(
name = "v"
[networks.main.states.a]
start = true
[[networks.main.states.a.arcs]]
to = "a"
on = "go"
)");
    auto report = engine.reload();  // the engine reloads every machine set it opened
    CHECK(report.ok);
    CHECK(report.orphaned == std::vector<std::string>{"in_b"});
    auto orphan = *m.get("in_b");
    CHECK(orphan.orphaned);
    CHECK(orphan.state == "main/b");
    CHECK(orphan.data["k"] == Value(2));
    auto r = m.send("in_b", "back");
    CHECK(r.status == SendStatus::rejected);
    CHECK(r.reason == "its state main/b no longer exists in the workflow");
    CHECK(m.send("in_a", "go").to == "main/a");
    // Bringing the state back brings the instance back.
    write(dir / "wf.toml", v1);
    CHECK(m.reload().orphaned.empty());
    CHECK(m.send("in_b", "back").to == "main/a");
    CHECK(m.get("in_b")->data["k"] == Value(2));
}

TEST_CASE("machines - recovery finds idle instances through an index, added to a store made before it") {
    auto dir = scratch("recover_index");
    { Chat chat(dir / "m.db"); }
    auto plan = [&] {
        SQLite::Database db((dir / "m.db").string());
        SQLite::Statement q(db,
                            "EXPLAIN QUERY PLAN SELECT id FROM statenet_instances WHERE completed = 0 AND "
                            "since_ms < 5 ORDER BY +id");
        std::string text;
        while (q.executeStep()) text += q.getColumn(3).getString() + "\n";
        return text;
    };
    CHECK(plan().find("USING INDEX statenet_instances_idle") != std::string::npos);
    {
        SQLite::Database db((dir / "m.db").string(), SQLite::OPEN_READWRITE);
        db.exec("DROP INDEX statenet_instances_idle");
    }
    CHECK(plan().find("statenet_instances_idle") == std::string::npos);
    Chat reopened(dir / "m.db");  // the migration adds it
    CHECK(plan().find("USING INDEX statenet_instances_idle") != std::string::npos);
    reopened.machines.start("s1", json("{}"));
    reopened.clock->advance(31 * minute);
    CHECK(reopened.machines.recover().size() == 1);
}
