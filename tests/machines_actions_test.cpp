// Machine actions: ctx.start_action runs a declared function on the action workers and
// its outcome comes back as action_done / action_failed / action_timeout; dedupe, the
// durable start, restarts with an action in flight, and a resource call.
#include "machines_helpers.hpp"
#include "servers/fake_api.hpp"

#include <statenet/statenet.hpp>

#include <doctest/doctest.h>

#include <chrono>
#include <cstdlib>
#include <functional>
#include <string>
#include <thread>

using machines_test::json;
using machines_test::scratch;
using machines_test::write;
using statenet::Engine;
using statenet::Machines;
using statenet::MachinesOptions;
using statenet::ManualClock;
using statenet::SendStatus;

namespace {

std::string workflow(const std::string& base_url) {
    return R"toml(
name = "worker"
[resources.api]
type = "http"
base_url = ")toml" +
           base_url +
           R"toml("
retries = 0

[actions]
double = { lua = "return { value = data.n * 2, by = ctx.action, for_instance = ctx.run_id }" }
boom = { lua = "error({ name = 'Boom', message = 'no luck' })" }
[actions.fetch]
run = { lua = "return ctx.resources.api:get('/items/' .. data.id).json" }
timeout_ms = 5000
[actions.slow]
run = { lua = "return ctx.resources.api:get('/delay/400').status" }
timeout_ms = 100
[actions.once]
run = { lua = "return 1" }
on_restart = "fail"

[networks.main.states.idle]
start = true
[[networks.main.states.idle.arcs]]
to = "waiting"
on = "go"
transform = { lua = "ctx.start_action(ctx.event.action, ctx.event.args)" }
[[networks.main.states.idle.arcs]]
to = "waiting"
on = "twice"
transform = { lua = "ctx.start_action('double', { n = 1 }); ctx.start_action('double', { n = 2 })" }
[[networks.main.states.idle.arcs]]
to = "idle"
on = "undeclared"
transform = { lua = "ctx.start_action('nope', {})" }
[[networks.main.states.idle.arcs]]
to = "idle"
on = "rolled_back"
transform = { lua = "ctx.start_action('double', { n = 5 }); error('after the start')" }

[networks.main.states.waiting]
[[networks.main.states.waiting.arcs]]
to = "waiting"
on = "again"
transform = { lua = "ctx.start_action(ctx.event.action, ctx.event.args)" }

[[networks.main.any.arcs]]
to = "idle"
on = "action_done"
transform = { lua = "data.result = ctx.event.result; data.done = (data.done or 0) + 1; data.name = ctx.event.name" }
[[networks.main.any.arcs]]
to = "idle"
on = "action_failed"
transform = { lua = "data.error = ctx.event.error; data.name = ctx.event.name" }
[[networks.main.any.arcs]]
to = "idle"
on = "action_timeout"
transform = { lua = "data.timed_out = ctx.event.name; data.timeout_ms = ctx.event.timeout_ms" }
)toml";
}

/// Waits (at most 10 s) until `ready` holds.
bool eventually(const std::function<bool()>& ready) {
    for (int i = 0; i < 1000; ++i) {
        if (ready()) return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return ready();
}

struct Fixture {
    statenet_test::FakeApi api;
    std::filesystem::path dir;
    std::shared_ptr<ManualClock> clock = std::make_shared<ManualClock>(1'000'000);
    Engine engine;

    explicit Fixture(const std::string& name) : dir(scratch(name)) {
        setenv("no_proxy", "127.0.0.1", 1);
        api.start();
        write(dir / "wf.toml", workflow(api.base_url()));
    }

    MachinesOptions options(bool durable, std::size_t workers = 2) {
        MachinesOptions o;
        if (durable) o.store = dir / "m.db";
        o.clock = clock;
        o.action_workers = workers;
        return o;
    }

    std::size_t audited(Machines& m, const std::string& id, const std::string& event) {
        std::size_t n = 0;
        for (const auto& row : m.audit(id))
            if (row.event == event && row.outcome == "applied") ++n;
        return n;
    }
};

}  // namespace

TEST_CASE("machine actions - action_done brings the result back; the send does not wait for it") {
    for (bool durable : {false, true}) {
        CAPTURE(durable);
        Fixture f(durable ? "actions_done_db" : "actions_done_mem");
        Machines m(f.engine, f.dir / "wf.toml", f.options(durable));
        m.start("w", json("{}"));
        auto r = m.send("w", "go", json(R"({"action": "double", "args": {"n": 21}})"));
        REQUIRE(r.status == SendStatus::applied);
        CHECK(r.to == "main/waiting");
        REQUIRE(eventually([&] { return m.get("w")->state == "main/idle"; }));
        auto data = m.get("w")->data;
        CHECK(data["result"]["value"].as_number() == 42);
        CHECK(data["result"]["by"].as_string() == "double");
        CHECK(data["result"]["for_instance"].as_string() == "w");
        CHECK(data["name"].as_string() == "double");
        auto log = m.audit("w");
        REQUIRE(log.size() == 3);
        CHECK(log[2].event == "action_done");
        CHECK(log[2].key.starts_with("action:"));
    }
}

TEST_CASE("machine actions - a failing action sends action_failed with its error") {
    Fixture f("actions_failed");
    Machines m(f.engine, f.dir / "wf.toml", f.options(true));
    m.start("w", json("{}"));
    m.send("w", "go", json(R"({"action": "boom"})"));
    REQUIRE(eventually([&] { return m.get("w")->state == "main/idle"; }));
    auto error = m.get("w")->data["error"];
    CHECK(error["name"].as_string() == "Boom");
    CHECK(error["message"].as_string() == "no luck");
}

TEST_CASE("machine actions - an action in flight for an instance is not started twice") {
    Fixture f("actions_dedupe");
    {
        // No workers: the started actions stay open in the store.
        Machines m(f.engine, f.dir / "wf.toml", f.options(true, 0));
        m.start("w", json("{}"));
        m.start("v", json("{}"));
        REQUIRE(m.send("w", "twice").status == SendStatus::applied);  // two starts in one transition
        REQUIRE(m.send("w", "again", json(R"({"action": "double", "args": {"n": 3}})")).status == SendStatus::applied);
        // The same name for another instance is another action.
        REQUIRE(m.send("v", "go", json(R"({"action": "double", "args": {"n": 4}})")).status == SendStatus::applied);
    }
    Machines m(f.engine, f.dir / "wf.toml", f.options(true));
    REQUIRE(eventually([&] { return m.get("w")->state == "main/idle" && m.get("v")->state == "main/idle"; }));
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    CHECK(f.audited(m, "w", "action_done") == 1);
    CHECK(m.get("w")->data["result"]["value"].as_number() == 2);  // the first start's args
    CHECK(m.get("v")->data["result"]["value"].as_number() == 8);
    // Once done, the action can start again.
    REQUIRE(m.send("w", "go", json(R"({"action": "double", "args": {"n": 10}})")).status == SendStatus::applied);
    REQUIRE(eventually([&] { return f.audited(m, "w", "action_done") == 2; }));
    CHECK(m.get("w")->data["result"]["value"].as_number() == 20);
}

TEST_CASE("machine actions - an action times out on the machines' clock and its late result is dropped") {
    Fixture f("actions_timeout");
    Machines m(f.engine, f.dir / "wf.toml", f.options(true));
    m.start("w", json("{}"));
    m.send("w", "go", json(R"({"action": "slow"})"));  // 400 ms of HTTP, timeout_ms = 100
    REQUIRE(m.next_due());
    CHECK(*m.next_due() == doctest::Approx(1000100));
    f.clock->advance(99);
    CHECK(m.tick().empty());
    CHECK(m.get("w")->state == "main/waiting");
    f.clock->advance(1);
    m.tick();
    auto data = m.get("w")->data;
    CHECK(m.get("w")->state == "main/idle");
    CHECK(data["timed_out"].as_string() == "slow");
    CHECK(data["timeout_ms"].as_number() == 100);
    // The HTTP call finishes later: nothing more reaches the instance.
    REQUIRE(eventually([&] { return f.api.requests() >= 1; }));
    std::this_thread::sleep_for(std::chrono::milliseconds(700));
    CHECK(f.audited(m, "w", "action_done") == 0);
    CHECK(f.audited(m, "w", "action_timeout") == 1);
}

TEST_CASE("machine actions - a timeout while no process runs fires once the store is opened again") {
    Fixture f("actions_timeout_offline");
    {
        Machines m(f.engine, f.dir / "wf.toml", f.options(true, 0));
        m.start("w", json("{}"));
        m.send("w", "go", json(R"({"action": "double", "args": {"n": 1}})"));
    }
    f.clock->advance(60'000);  // past double's 30 s default timeout
    Machines m(f.engine, f.dir / "wf.toml", f.options(true, 0));
    m.tick();
    CHECK(m.get("w")->data["timed_out"].as_string() == "double");
    CHECK(f.audited(m, "w", "action_done") == 0);
}

TEST_CASE("machine actions - the start is durable with the transition, and re-run after a restart") {
    Fixture f("actions_restart");
    {
        Machines m(f.engine, f.dir / "wf.toml", f.options(true, 0));
        m.start("w", json("{}"));
        m.start("u", json("{}"));
        m.send("w", "go", json(R"({"action": "fetch", "args": {"id": 7}})"));
        m.send("u", "go", json(R"({"action": "once"})"));
        // A transition that fails after ctx.start_action starts nothing.
        m.start("r", json("{}"));
        CHECK(m.send("r", "rolled_back").status == SendStatus::rejected);
    }                                                          // the process ends with the actions in flight
    Machines m(f.engine, f.dir / "wf.toml", f.options(true));  // recovers on open
    REQUIRE(eventually([&] { return m.get("w")->state == "main/idle" && m.get("u")->state == "main/idle"; }));
    CHECK(m.get("w")->data["result"]["name"].as_string() == "item-7");
    // on_restart = "fail": the instance hears that its action was interrupted.
    CHECK(m.get("u")->data["error"]["name"].as_string() == "ActionInterrupted");
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    CHECK(m.audit("r").size() == 2);  // start, the rejected event: no action_done
}

TEST_CASE("machine actions - a resource call against an HTTP server, and its HTTP error as action_failed") {
    Fixture f("actions_http");
    Machines m(f.engine, f.dir / "wf.toml", f.options(false));
    m.start("w", json("{}"));
    m.send("w", "go", json(R"({"action": "fetch", "args": {"id": 12}})"));
    REQUIRE(eventually([&] { return m.get("w")->state == "main/idle"; }));
    CHECK(m.get("w")->data["result"]["name"].as_string() == "item-12");
    m.send("w", "go", json(R"({"action": "fetch", "args": {"id": 404}})"));
    REQUIRE(eventually([&] { return m.get("w")->state == "main/idle"; }));
    CHECK(m.get("w")->data["error"]["name"].as_string() == "HttpError");
}

TEST_CASE("machine actions - an undeclared action fails the event") {
    Fixture f("actions_undeclared");
    Machines m(f.engine, f.dir / "wf.toml", f.options(false));
    m.start("w", json("{}"));
    auto r = m.send("w", "undeclared");
    CHECK(r.status == SendStatus::rejected);
    CHECK(r.reason.find("unknown action 'nope' (declared under [actions]: boom, double, fetch, once, slow)") !=
          std::string::npos);
}

TEST_CASE("machine actions - [actions] load errors are located") {
    auto dir = scratch("actions_load");
    write(dir / "wf.toml", R"toml(name = "bad"
[actions.a]
run = "nomodule.fn"
on_restart = "retry"
timeout_ms = 0
[networks.main.states.s]
start = true
)toml");
    Engine engine;
    try {
        Machines m(engine, dir / "wf.toml");
        FAIL("loaded");
    } catch (const statenet::LoadError& e) {
        const std::string text = e.what();
        CHECK(text.find("wf.toml:4:14: unknown on_restart 'retry' (expected rerun or fail)") != std::string::npos);
        CHECK(text.find("wf.toml:5:14: ") != std::string::npos);
    }
}
