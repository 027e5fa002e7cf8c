// The history writer under load, through the public API: runs handed over by several workers at once, more than a
// worker's channel holds, and the durations recorded for runs and steps.
#include "history_helpers.hpp"
#include "temp_dir.hpp"

#include <statenet/statenet.hpp>

#include <doctest/doctest.h>

#include <chrono>
#include <cstdint>
#include <set>
#include <string>
#include <vector>

using history_test::history_in;
using history_test::load_text;
using statenet::Engine;
using statenet::History;
using statenet::HistoryLevel;
using statenet::Value;
using statenet::Workflow;
using statenet_test::TempDir;

namespace {

const char* chained = R"toml(
name = "chained"
[networks.main.states.a]
start = true
transform = { lua = "data.a = true" }
[[networks.main.states.a.arcs]]
to = "b"
[networks.main.states.b]
transform = { lua = "data.b = true" }
[[networks.main.states.b.arcs]]
to = "big"
when = { lua = "data.n % 2 == 0" }
[[networks.main.states.b.arcs]]
to = "small"
[networks.main.states.big]
end = true
[networks.main.states.small]
end = true
)toml";

/// Records {"n": 0} .. {"n": count - 1}.
std::vector<Value> numbered(int count) {
    std::vector<Value> records;
    records.reserve(static_cast<std::size_t>(count));
    for (int i = 0; i < count; ++i) records.push_back(Value::object({{"n", i}}));
    return records;
}

}  // namespace

TEST_CASE("history writer - two workers hand over more runs than a channel holds: every run and step is stored") {
    TempDir dir("statenet_history_writer");
    Engine engine;
    Workflow wf = load_text(engine, chained, history_in(dir / "h.db", HistoryLevel::steps));
    // A worker's channel holds 8,192 runs: each hands over about 15,000, so its ring
    // wraps (and the worker waits for room whenever the writer falls behind).
    constexpr int n = 30'000;
    const auto records = numbered(n);
    const auto results = wf.process_batch(records, {.workers = 2});
    REQUIRE(results.size() == static_cast<std::size_t>(n));
    wf.flush_history();
    History history(dir / "h.db");
    const auto runs = history.runs();
    REQUIRE(runs.size() == static_cast<std::size_t>(n));
    std::set<std::int64_t> positions;
    std::set<std::string> ids;
    for (const auto& run : runs) {
        REQUIRE(run.position);
        positions.insert(*run.position);
        ids.insert(run.run_id);
    }
    CHECK(positions.size() == static_cast<std::size_t>(n));
    CHECK(*positions.begin() == 0);
    CHECK(*positions.rbegin() == n - 1);
    CHECK(ids.size() == static_cast<std::size_t>(n));
    // The chained states' steps, with the arc each took, for a sample of runs.
    for (std::size_t i = 0; i < runs.size(); i += 997) {
        const auto steps = history.steps(runs[i]);
        REQUIRE(steps.size() == 3);
        CHECK(steps[0].qualified() == "main/a");
        CHECK(steps[0].arc == "main/b");
        CHECK(steps[1].qualified() == "main/b");
        CHECK(steps[1].arc == (*runs[i].position % 2 == 0 ? "main/big" : "main/small"));
        CHECK(steps[2].status == "end");
    }
}

TEST_CASE("history writer - run and step durations follow the wall clock") {
    TempDir dir("statenet_history_writer");
    Engine engine;
    // State b spins for 30 ms of CPU time; a and c do nothing.
    Workflow wf = load_text(engine, R"toml(
name = "timed"
[networks.main.states.a]
start = true
[[networks.main.states.a.arcs]]
to = "b"
[networks.main.states.b]
transform = { lua = "local t = os.clock(); while os.clock() - t < 0.03 do end" }
[[networks.main.states.b.arcs]]
to = "c"
[networks.main.states.c]
end = true
)toml",
                            history_in(dir / "h.db", HistoryLevel::steps));
    const auto before = std::chrono::system_clock::now();
    const auto result = wf.process(Value::object({}));
    const auto after = std::chrono::system_clock::now();
    REQUIRE(result.ok);
    wf.flush_history();
    History history(dir / "h.db");
    const auto runs = history.runs();
    REQUIRE(runs.size() == 1);
    const auto steps = history.steps(runs[0]);
    REQUIRE(steps.size() == 3);
    const auto took = std::chrono::duration_cast<std::chrono::nanoseconds>(after - before).count();
    CHECK(steps[1].duration_ns >= 29'000'000);
    CHECK(steps[1].duration_ns <= took);
    CHECK(steps[0].duration_ns < 5'000'000);
    CHECK(steps[2].duration_ns < 5'000'000);
    CHECK(runs[0].duration_ns >= steps[0].duration_ns + steps[1].duration_ns + steps[2].duration_ns);
    CHECK(runs[0].duration_ns <= took);
    CHECK(result.duration.count() == runs[0].duration_ns);
    const auto micros = [](auto t) {
        return std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch()).count();
    };
    CHECK(runs[0].started_us >= micros(before) - 1000);
    CHECK(runs[0].started_us <= micros(after));
}

TEST_CASE("history writer - each failed run keeps its own error while the writer reuses the buffers it came in") {
    TempDir dir("statenet_history_writer");
    Engine engine;
    // Every third record fails, with a name and a message whose lengths change from run
    // to run, and every fifth gives a reason for its arc. At level steps every run's
    // extras (steps, the run's and the steps' errors, reasons) come back from the writer
    // to be filled again (20,000 runs wrap the channel twice): none may keep a longer
    // earlier text or lend its error or reason to another run.
    Workflow wf = load_text(engine, R"toml(
name = "failing"
[networks.main.states.a]
start = true
transform = { lua = "if data.n % 3 == 0 then error({ name = 'Bad' .. string.rep('d', data.n % 7), message = string.rep('m', data.n % 50) }) end" }
[[networks.main.states.a.arcs]]
to = "b"
when = { lua = "if data.n % 5 == 0 then return true, 'r' .. string.rep('x', data.n % 11) end return true" }
[networks.main.states.b]
end = true
)toml",
                            history_in(dir / "h.db", HistoryLevel::steps));
    constexpr int n = 20'000;
    const auto records = numbered(n);
    const auto results = wf.process_batch(records);
    REQUIRE(results.size() == static_cast<std::size_t>(n));
    wf.flush_history();
    History history(dir / "h.db");
    const auto runs = history.runs();
    REQUIRE(runs.size() == static_cast<std::size_t>(n));
    int failed = 0, checked_steps = 0;
    for (const auto& run : runs) {
        REQUIRE(run.position);
        const auto i = static_cast<std::size_t>(*run.position);
        // Reading a run's steps is a query of its own: every 7th run's are read back.
        const bool read_steps = i % 7 == 0;
        const auto steps = read_steps ? history.steps(run) : std::vector<statenet::HistoryStep>{};
        if (read_steps) ++checked_steps;
        if (i % 3 != 0) {
            CHECK(run.ok);
            CHECK_FALSE(run.error);
            CHECK(run.final_state == "main/b");
            if (read_steps) {
                REQUIRE(steps.size() == 2);
                CHECK_FALSE(steps[0].error);
                CHECK(steps[0].reason == (i % 5 == 0 ? "r" + std::string(i % 11, 'x') : ""));
                CHECK_FALSE(steps[1].error);
                CHECK(steps[1].reason.empty());
            }
            continue;
        }
        ++failed;
        CHECK_FALSE(run.ok);
        REQUIRE(run.error);
        CHECK(run.error->name == "Bad" + std::string(i % 7, 'd'));
        CHECK(run.error->message == std::string(i % 50, 'm'));
        CHECK(run.error->state == "main/a");
        CHECK(run.final_state == "main/a");
        if (read_steps) {
            REQUIRE(steps.size() == 1);
            CHECK(steps[0].status == "failed");
            REQUIRE(steps[0].error);
            CHECK(steps[0].error->name == run.error->name);
            CHECK(steps[0].error->message == run.error->message);
            CHECK(steps[0].reason.empty());
        }
    }
    CHECK(failed == (n + 2) / 3);
    CHECK(checked_steps == (n + 6) / 7);
}
