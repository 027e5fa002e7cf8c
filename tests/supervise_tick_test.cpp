// What a supervisor tick re-reads and what it keeps: children derived again only when
// their inputs move, state mapping over a hot-reloaded child workflow, breakers that
// survive a restart of the process.
#include "machines_helpers.hpp"
#include "temp_dir.hpp"

#include <SQLiteCpp/SQLiteCpp.h>

#include <doctest/doctest.h>

#include <algorithm>

using namespace statenet;
using namespace machines_test;

namespace {

struct Tree {
    std::shared_ptr<ManualClock> clock;
    Engine engine;
    Supervisor supervisor;

    explicit Tree(const fs::path& workflow, fs::path store = {}, std::shared_ptr<ManualClock> shared = nullptr)
        : clock(shared ? shared : std::make_shared<ManualClock>(1'000'000)),
          supervisor(engine, workflow, Chat::options(std::move(store), clock)) {}

    Machines& kind(const char* path) { return *supervisor.machines(path); }
};

std::vector<std::string> events(Machines& m, const std::string& id) {
    std::vector<std::string> out;
    for (const auto& a : m.audit(id))
        if (a.outcome == "applied") out.push_back(a.event);
    return out;
}

// A child that goes up on `go` (version 1) or on `power_on` (version 2).
std::string child_lua(const char* up_event) {
    return std::string(R"(return {
  name = "child", main = "child",
  networks = { child = {
    states = {
      { name = "down", start = true, arcs = { { to = "up", on = ")") +
           up_event + R"(" } } },
      { name = "up", arcs = { { to = "down", on = "halt" } } },
      { name = "gone", ["end"] = true },
    },
    any = { arcs = { { to = "gone", on = "stop" } } },
  } },
}
)";
}

// Its parent: one child, mapped down in `idle` and up in `busy`; `derived` counts the
// children function's runs into the spec (a function that is not pure shows when it runs).
const char* parent_lua = R"(local runs = 0
local function children(data)
  runs = runs + 1
  return { { name = "c", workflow = "child", spec = { runs = runs, size = data.size },
             state_map = { idle = "down", busy = "up" } } }
end
local set = { lua = "for k, v in pairs(ctx.event) do data[k] = v end" }
return {
  name = "parent", main = "parent",
  machines = { child = "child.lua" },
  networks = { parent = { states = {
    { name = "idle", start = true, children = children,
      arcs = { { to = "busy", on = "work" }, { to = "idle", on = "set", transform = set } } },
    { name = "busy", children = children, arcs = { { to = "idle", on = "rest" } } },
  } } },
}
)";

}  // namespace

TEST_CASE("supervise - the children function runs again only when the parent's data, state or vars move") {
    statenet_test::TempDir dir("statenet_supervise_tick");
    write(dir / "child.lua", child_lua("go"));
    write(dir / "parent.lua", parent_lua);
    Tree t(dir / "parent.lua");
    const auto runs = [&] { return t.supervisor.tree("p")->children.at(0).spec["runs"].as_int(); };
    t.supervisor.machines().start("p", json(R"({"size": 1})"));
    CHECK(t.supervisor.tick().started == 1);
    for (int i = 0; i < 3; ++i) t.supervisor.tick();
    CHECK(runs() == 1);  // not run again: nothing it reads moved
    // An event that changes nothing the specs hold runs it (and changes `runs` here).
    t.supervisor.machines().send("p", "set", json(R"({"note": "x"})"));
    t.supervisor.tick();
    CHECK(runs() == 2);
    t.supervisor.tick();
    CHECK(runs() == 2);
    t.supervisor.machines().send("p", "work");  // a new state: run again, and mapped
    const SuperviseReport r = t.supervisor.tick();
    CHECK(runs() == 3);
    CHECK(r.mapped == 1);
    CHECK(t.kind("child").get("p/c")->state == "child/up");
}

TEST_CASE("supervise - state mapping follows a hot-reloaded child workflow's arcs") {
    statenet_test::TempDir dir("statenet_supervise_reload");
    write(dir / "child.lua", child_lua("go"));
    write(dir / "parent.lua", parent_lua);
    Tree t(dir / "parent.lua");
    t.supervisor.machines().start("p", json(R"({"size": 1})"));
    t.supervisor.tick();
    CHECK(t.kind("child").get("p/c")->state == "child/down");
    // The child workflow now goes up on `power_on`: mapping must send that.
    write(dir / "child.lua", child_lua("power_on"));
    const ReloadReport reloaded = t.kind("child").reload();
    REQUIRE(reloaded.ok);
    t.supervisor.machines().send("p", "work");
    const SuperviseReport r = t.supervisor.tick();
    CHECK(r.mapped == 1);
    CHECK(r.errors.empty());
    CHECK(t.kind("child").get("p/c")->state == "child/up");
    const auto applied = events(t.kind("child"), "p/c");
    CHECK(std::find(applied.begin(), applied.end(), "power_on") != applied.end());
    CHECK(std::find(applied.begin(), applied.end(), "go") == applied.end());
    CHECK(t.supervisor.tree("p")->children.at(0).note.empty());
}

TEST_CASE("supervise - an open breaker stays open across a restart of the process, then goes half-open") {
    statenet_test::TempDir dir("statenet_supervise_breaker");
    const fs::path converter = source_dir / "examples/protocol-converter/converter.lua";
    auto clock = std::make_shared<ManualClock>(1'000'000);
    {
        Tree t(converter, dir / "conv.db", clock);
        t.supervisor.machines().start("c1", json(R"({"host": "h", "port": 1, "site": "s", "broker_up": false})"));
        for (int i = 0; i < 3; ++i) t.supervisor.tick();
        CHECK(t.supervisor.tree("c1")->breaker == "open");
        clock->advance(1000);  // half-open: one check fails, open for 2000 ms
        CHECK(t.supervisor.tick().held == 1);
    }
    {
        SQLite::Database db((dir / "conv.db").string());
        CHECK(db.execAndGet("SELECT state || ' ' || failures || ' ' || backoff_ms FROM statenet_breakers "
                            "WHERE instance = 'c1'")
                  .getString() == "open 4 2000.0");
    }
    Tree t(converter, dir / "conv.db", clock);
    TreeNode node = *t.supervisor.tree("c1");
    CHECK(node.breaker == "open");
    CHECK(node.note == "broker unreachable");
    t.supervisor.machines().send("c1", "configure", json(R"({"broker_up": true, "flows": ["x"]})"));
    clock->advance(1999);
    SuperviseReport r = t.supervisor.tick();
    CHECK(r.held == 1);  // still inside the back-off: not checked, nothing started
    CHECK(r.started == 0);
    clock->advance(1);
    r = t.supervisor.tick();  // half-open: the check passes, closed
    CHECK(r.held == 0);
    CHECK(r.started >= 1);
    CHECK(t.supervisor.tree("c1")->breaker == "closed");
}

TEST_CASE("supervise - a store from before breakers were kept opens and gets their table") {
    statenet_test::TempDir dir("statenet_supervise_migrate");
    const fs::path converter = source_dir / "examples/protocol-converter/converter.lua";
    auto clock = std::make_shared<ManualClock>(1'000'000);
    {
        Tree t(converter, dir / "conv.db", clock);
        t.supervisor.machines().start("c1", json(R"({"host": "h", "port": 1, "site": "s", "flows": ["temp"]})"));
        t.supervisor.tick();
    }
    {
        SQLite::Database db((dir / "conv.db").string(), SQLite::OPEN_READWRITE);
        db.exec("DROP TABLE statenet_breakers");
    }
    Tree t(converter, dir / "conv.db", clock);
    CHECK(t.supervisor.tree("c1")->children.size() == 2);
    t.supervisor.machines().send("c1", "configure", json(R"({"broker_up": false})"));
    for (int i = 0; i < 3; ++i) t.supervisor.tick();
    SQLite::Database db((dir / "conv.db").string());
    CHECK(db.execAndGet("SELECT state FROM statenet_breakers WHERE instance = 'c1'").getString() == "open");
}

TEST_CASE("supervise - a spec with an unknown key or a bad state_map is an error on every tick until fixed") {
    statenet_test::TempDir dir("statenet_supervise_checks");
    write(dir / "child.lua", child_lua("go"));
    write(dir / "parent.lua", R"(local function children(data)
  local spec = { name = "c", workflow = "child", state_map = { idle = data.to } }
  if data.typo then spec.sepc = {} end
  return { spec }
end
return {
  name = "parent", main = "parent",
  machines = { child = "child.lua" },
  networks = { parent = { states = {
    { name = "idle", start = true, children = children,
      arcs = { { to = "idle", on = "set", transform = { lua = "for k, v in pairs(ctx.event) do data[k] = v end" } } } },
  } } },
}
)");
    Tree t(dir / "parent.lua");
    t.supervisor.machines().start("p", json(R"({"typo": true, "to": "down"})"));
    for (int i = 0; i < 2; ++i) {
        const SuperviseReport r = t.supervisor.tick();
        REQUIRE(r.errors.size() == 1);
        CHECK(r.errors[0] ==
              "p: child 'c': unknown key 'sepc' (a child spec has name, workflow, spec, state_map, vars)");
        CHECK(r.started == 0);
    }
    t.supervisor.machines().send("p", "set", json(R"({"typo": false})"));
    CHECK(t.supervisor.tick().started == 1);
    t.supervisor.machines().send("p", "set", json(R"({"to": 3})"));  // the map changed: checked again
    const SuperviseReport r = t.supervisor.tick();
    REQUIRE(r.errors.size() == 1);
    CHECK(r.errors[0].find("state_map maps parent state names to child state names") != std::string::npos);
}
