// InFlight: records on fibers, switched while they wait; every record done, at most
// `slots` in progress, each on a runner of its own, failures rethrown.
#include "exec/in_flight.hpp"
#include "api/workflow_impl.hpp"

#include <statenet/statenet.hpp>

#include <doctest/doctest.h>

#include <chrono>
#include <set>
#include <stdexcept>
#include <thread>

using statenet::detail::InFlight;
using statenet::detail::Poller;
using statenet::detail::Runner;

namespace {

using Clock = std::chrono::steady_clock;

const char* workflow_text = R"(
name = "inflight"
[networks.main.states.a]
start = true
transform = [{ lua = "data.seen = (data.seen or 0) + 1; return data" }]
[[networks.main.states.a.arcs]]
to = "b"
[networks.main.states.b]
end = true
)";

/// A network stand-in: sleeps until asked again (never longer than the timeout).
struct SleepPoller final : Poller {
    int polls = 0;
    void poll(int timeout_ms) override {
        ++polls;
        std::this_thread::sleep_for(std::chrono::milliseconds(std::min(timeout_ms, 1)));
    }
};

}  // namespace

TEST_CASE("in flight - records wait together, each on its own runner") {
    statenet::Engine engine;
    auto wf = engine.load_string(workflow_text, "inflight.toml");
    InFlight in_flight(wf.impl().runners(), 8);
    SleepPoller poller;
    int active = 0, most = 0;
    std::set<Runner*> runners;
    std::vector<int> seen(40, 0);
    auto work = [&](std::size_t i, Runner& runner) {
        runners.insert(&runner);
        most = std::max(most, ++active);
        const auto due = Clock::now() + std::chrono::milliseconds(20);
        statenet::detail::wait_for([&] { return Clock::now() >= due; }, poller);
        statenet::Result r = runner.run(statenet::Value::object({{"i", static_cast<long long>(i)}}), {});
        REQUIRE(r.ok);
        seen[i] = static_cast<int>(r.data["seen"].as_number());
        --active;
    };
    in_flight.run(40, work);
    CHECK(most == 8);
    CHECK(runners.size() == 8);
    CHECK(std::count(seen.begin(), seen.end(), 1) == 40);
    CHECK(poller.polls > 0);

    // A second batch reuses the fibers and their runners.
    runners.clear();
    most = 0;
    in_flight.run(3, work);
    CHECK(most == 3);
    CHECK(runners.size() == 3);
    CHECK(in_flight.flush().empty());
}

TEST_CASE("in flight - a failure is rethrown once the others are done") {
    statenet::Engine engine;
    auto wf = engine.load_string(workflow_text, "inflight.toml");
    InFlight in_flight(wf.impl().runners(), 4);
    SleepPoller poller;
    int done = 0;
    auto work = [&](std::size_t i, Runner&) {
        const auto due = Clock::now() + std::chrono::milliseconds(5);
        statenet::detail::wait_for([&] { return Clock::now() >= due; }, poller);
        if (i == 1) throw std::runtime_error("record 1 broke the engine");
        ++done;
    };
    CHECK_THROWS_WITH_AS(in_flight.run(4, work), "record 1 broke the engine", std::runtime_error);
    // The records already in flight finished; none was started after the failure.
    CHECK(done == 3);
    // The scheduler is usable again.
    done = 0;
    in_flight.run(2, [&](std::size_t, Runner&) { ++done; });
    CHECK(done == 2);
}

TEST_CASE("in flight - without a scheduler a wait polls in place") {
    SleepPoller poller;
    int calls = 0;
    statenet::detail::wait_for([&] { return ++calls > 3; }, poller);
    CHECK(poller.polls == 3);
}
