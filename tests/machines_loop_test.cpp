// Machines that run by themselves: the timer loop (next_due, run_timers), listeners told
// after each commit, the events a state accepts, and arcs back to "@previous".
#include "machines_helpers.hpp"

#include <statenet/statenet.hpp>

#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

using machines_test::json;
using machines_test::scratch;
using machines_test::write;
using statenet::Engine;
using statenet::Machines;
using statenet::MachinesOptions;
using statenet::OutboxMessage;
using statenet::SendResult;
using statenet::SendStatus;

namespace {

const char* timed = R"(
name = "timed"
[networks.main.states.wait]
start = true
[[networks.main.states.wait.arcs]]
to = "done"
after_ms = 150
[[networks.main.states.wait.arcs]]
to = "wait"
on = "poke"
[[networks.main.states.wait.arcs]]
to = "done"
on = "finish"
[networks.main.states.done]
end = true
)";

}  // namespace

TEST_CASE("machines loop - next_due names the earliest timer; run_timers fires it on time") {
    auto dir = scratch("loop");
    write(dir / "wf.toml", timed);
    Engine engine;
    MachinesOptions options;
    options.store = dir / "store.db";  // the wall clock
    Machines m(engine, dir / "wf.toml", options);
    CHECK(!m.next_due());
    std::vector<std::string> told;
    std::mutex told_mutex;
    m.subscribe([&](const SendResult& r, const std::vector<OutboxMessage>&) {
        std::lock_guard lock(told_mutex);
        told.push_back(r.instance + ":" + r.event + "->" + r.to);
    });
    std::atomic<bool> stop{false};
    std::thread loop([&] { m.run_timers([&] { return stop.load(); }); });
    const auto started = std::chrono::steady_clock::now();
    m.start("a");
    const double due = *m.next_due();
    CHECK(due == doctest::Approx(m.get("a")->since_ms + 150));
    // The loop sleeps until the timer is due, then fires it: no tick() from here.
    while (!m.get("a")->completed && std::chrono::steady_clock::now() - started < std::chrono::seconds(5))
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    CHECK(m.get("a")->completed);
    CHECK(m.get("a")->state == "main/done");
    CHECK(!m.next_due());
    stop = true;
    m.wake();
    loop.join();
    std::lock_guard lock(told_mutex);
    REQUIRE(told.size() == 2);
    CHECK(told[0] == "a:start->main/wait");
    CHECK(told[1] == "a:after_ms=150->main/done");
}

TEST_CASE("machines loop - listeners hear committed transitions only, rejected ones too") {
    auto dir = scratch("listeners");
    write(dir / "wf.toml", timed);
    Engine engine;
    Machines m(engine, dir / "wf.toml");
    std::vector<SendStatus> heard;
    const auto id =
        m.subscribe([&](const SendResult& r, const std::vector<OutboxMessage>&) { heard.push_back(r.status); });
    m.start("a");
    m.send("a", "nope");
    m.send("a", "poke", {}, "k1");
    m.send("a", "poke", {}, "k1");  // a duplicate runs nothing and tells nothing
    CHECK_THROWS_AS(m.send("ghost", "poke"), std::invalid_argument);
    CHECK(heard == std::vector<SendStatus>{SendStatus::applied, SendStatus::rejected, SendStatus::applied});
    m.unsubscribe(id);
    m.send("a", "finish");
    CHECK(heard.size() == 3);
}

TEST_CASE("machines loop - accepts lists the events of the current state") {
    auto dir = scratch("accepts");
    write(dir / "wf.toml", timed);
    Engine engine;
    Machines m(engine, dir / "wf.toml");
    m.start("a");
    CHECK(m.accepts("a") == std::vector<std::string>{"finish", "poke"});
    m.send("a", "finish");
    CHECK(m.accepts("a").empty());
    CHECK_THROWS_AS(m.accepts("ghost"), std::invalid_argument);
}

namespace {

const char* clarifying = R"(
name = "clarify"
[networks.main.states.a]
start = true
[[networks.main.states.a.arcs]]
to = "b"
on = "next"
[[networks.main.states.a.arcs]]
to = "help"
on = "huh"
[networks.main.states.b]
[[networks.main.states.b.arcs]]
to = "help"
on = "huh"
[networks.main.states.help]
[[networks.main.states.help.arcs]]
to = "@previous"
on = "ok"
[[networks.main.states.help.arcs]]
to = "@previous"
after_ms = 1000
)";

}  // namespace

TEST_CASE("machines loop - an arc to @previous returns where the instance came from, for events and timers") {
    auto dir = scratch("previous");
    write(dir / "wf.toml", clarifying);
    for (bool durable : {false, true}) {
        Engine engine;
        MachinesOptions options;
        if (durable) options.store = dir / "store.db";
        options.clock = std::make_shared<statenet::ManualClock>(0);
        Machines m(engine, dir / "wf.toml", options);
        m.start("x");
        m.send("x", "huh");
        CHECK(m.send("x", "ok").to == "main/a");
        m.send("x", "next");
        m.send("x", "huh");
        CHECK(m.get("x")->state == "main/help");
        auto fired = m.tick(5000);
        REQUIRE(fired.size() == 1);
        CHECK(fired[0].to == "main/b");
    }
    // The durable store remembers where an instance came from across processes.
    Engine engine;
    MachinesOptions options;
    options.store = dir / "store.db";
    options.clock = std::make_shared<statenet::ManualClock>(10000);
    {
        Machines m(engine, dir / "wf.toml", options);
        m.start("y");
        m.send("y", "next");
        m.send("y", "huh");
    }
    Machines m(engine, dir / "wf.toml", options);
    CHECK(m.send("y", "ok").to == "main/b");
}

TEST_CASE("machines loop - @previous in a record run goes back one state; with none it fails clearly") {
    Engine engine;
    auto wf = engine.load_string(R"(
name = "records"
[networks.main.states.a]
start = true
[[networks.main.states.a.arcs]]
to = "b"
when = { lua = "not data.back" }
[[networks.main.states.a.arcs]]
to = "done"
when = { lua = "data.back" }
[networks.main.states.b]
transform = { lua = "data.back = true" }
[[networks.main.states.b.arcs]]
to = "@previous"
[networks.main.states.done]
end = true
)",
                                 "records.toml");
    auto r = wf.process(json("{}"));
    REQUIRE(r.ok);
    CHECK(r.path == std::vector<std::string>{"main/a", "main/b", "main/a", "main/done"});

    auto lost = engine.load_string(R"(
name = "lost"
[networks.main.states.a]
start = true
[[networks.main.states.a.arcs]]
to = "@previous"
)",
                                   "lost.toml");
    r = lost.process(json("{}"));
    REQUIRE(!r.ok);
    CHECK(r.error->name == "NoPreviousState");
    CHECK(r.error->message == "an arc to '@previous' fired, but the record came from no other state");
}

TEST_CASE("machines loop - retry and on_error work for machines as for records") {
    auto dir = scratch("machine_retry");
    write(dir / "wf.toml", R"toml(
name = "flaky"
[networks.main.states.idle]
start = true
[[networks.main.states.idle.arcs]]
to = "work"
on = "go"

[networks.main.states.work]
transform = { lua = "data.tries = ctx.attempt + 1; if data.tries < data.succeed_on then error({ name = 'Flaky', message = 'try ' .. data.tries }) end" }
retry = { errors = ["Flaky"], attempts = 2, interval_ms = 0 }
on_error = { errors = ["Flaky"], to = "failed" }
[[networks.main.states.work.arcs]]
to = "done"

[networks.main.states.failed]
transform = { lua = "data.why = ctx.error.name .. ': ' .. ctx.error.message" }
[[networks.main.states.failed.arcs]]
to = "idle"
on = "again"

[networks.main.states.done]
end = true
)toml");
    Engine engine;
    Machines m(engine, dir / "wf.toml");
    m.start("ok", json(R"({"succeed_on": 3})"));
    auto r = m.send("ok", "go");
    CHECK(r.status == SendStatus::applied);
    CHECK(r.to == "main/done");
    CHECK(m.get("ok")->data["tries"].as_int() == 3);  // two retries, the third try passes
    m.start("bad", json(R"({"succeed_on": 9})"));
    r = m.send("bad", "go");
    CHECK(r.status == SendStatus::applied);
    CHECK(r.to == "main/failed");
    CHECK(m.get("bad")->data["why"].as_string() == "Flaky: try 3");
    CHECK(m.accepts("bad") == std::vector<std::string>{"again"});
}

TEST_CASE("machines loop - census counts instances by state and due timers from the store") {
    auto dir = scratch("census");
    write(dir / "wf.toml", timed);
    for (bool durable : {false, true}) {
        Engine engine;
        MachinesOptions options;
        if (durable) options.store = dir / "census.db";
        options.clock = std::make_shared<statenet::ManualClock>(1000);
        Machines m(engine, dir / "wf.toml", options);
        m.start("a");
        m.start("b");
        m.start("c");
        m.send("c", "finish");
        auto census = m.census(1100);
        CHECK(census.by_state == std::map<std::string, std::size_t>{{"main/done", 1}, {"main/wait", 2}});
        CHECK(census.timers_due == 0);
        CHECK(m.census(1150).timers_due == 2);  // after_ms = 150 from 1000
    }
}
