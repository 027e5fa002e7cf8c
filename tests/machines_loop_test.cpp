// Machines that run by themselves: the timer loop (next_due, run_timers), listeners told
// after each commit, and the events a state accepts.
#include "machines_helpers.hpp"

#include <statenet/statenet.hpp>

#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
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
