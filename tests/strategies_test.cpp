// Recovery strategies declared per state: circuit_breaker, bulkhead, deadline_ms,
// fallback, compensate and cache, their counters, and their located load errors.
#include "temp_dir.hpp"

#include <statenet/statenet.hpp>
#include <statenet/strategy_stats.hpp>

#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

using statenet::Engine;
using statenet::EngineOptions;
using statenet::Result;
using statenet::Value;
using statenet::Workflow;

namespace {

// Time that moves only when a test (or a retry's wait) moves it.
class StepClock final : public statenet::Clock {
public:
    double now_ms() override { return now.load(); }
    void sleep_ms(double ms) override { now = now.load() + ms; }
    std::atomic<double> now{1000};
};

Workflow load(Engine& engine, const statenet_test::TempDir& dir, const std::string& toml) {
    return engine.load_string(toml, dir / "strategies.toml");
}

std::uint64_t count_of(const Workflow& wf, const std::string& state, const std::string& strategy,
                       const std::string& what) {
    for (const auto& st : statenet::strategy_stats(wf))
        if (st.state == state && st.strategy == strategy)
            for (const auto& [name, n] : st.counts)
                if (name == what) return n;
    FAIL("no counter " << state << " " << strategy << " " << what);
    return 0;
}

std::string status_of(const Workflow& wf, const std::string& state) {
    for (const auto& st : statenet::strategy_stats(wf))
        if (st.state == state && st.strategy == "circuit_breaker") return st.status;
    return "";
}

std::string load_error(const std::string& toml) {
    statenet_test::TempDir dir;
    Engine engine;
    try {
        load(engine, dir, toml);
    } catch (const statenet::LoadError& e) {
        return e.what();
    }
    return "";
}

const char* breaker_flow = R"toml(
name = "breaker"
[networks.main.states.call]
start = true
end = true
transform = { lua = "if data.fail then error({ name = 'Upstream', message = 'down' }) end data.called = true" }
circuit_breaker = { failures = 2, reset_ms = 500, errors = ["Upstream"] }
)toml";

}  // namespace

TEST_CASE("strategies - a circuit breaker opens after its failures, refuses, then closes after a good trial") {
    statenet_test::TempDir dir;
    auto clock = std::make_shared<StepClock>();
    EngineOptions options;
    options.clock = clock;
    Engine engine(options);
    Workflow wf = load(engine, dir, breaker_flow);
    const Value bad = Value::from_json(R"({"fail":true})");
    const Value good = Value::from_json(R"({"fail":false})");
    CHECK(wf.process(bad).error->name == "Upstream");
    CHECK(status_of(wf, "main/call") == "closed");
    CHECK(wf.process(bad).error->name == "Upstream");
    CHECK(status_of(wf, "main/call") == "open");
    Result refused = wf.process(good);
    REQUIRE_FALSE(refused.ok);
    CHECK(refused.error->name == "CircuitOpen");
    CHECK(refused.error->message.find("main/call") != std::string::npos);
    clock->now = clock->now.load() + 500;
    Result trial = wf.process(good);
    CHECK(trial.ok);
    CHECK(status_of(wf, "main/call") == "closed");
    CHECK(count_of(wf, "main/call", "circuit_breaker", "opened") == 1);
    CHECK(count_of(wf, "main/call", "circuit_breaker", "refused") == 1);
}

TEST_CASE("strategies - a failed half-open trial opens the breaker again; errors it does not watch leave it be") {
    statenet_test::TempDir dir;
    auto clock = std::make_shared<StepClock>();
    EngineOptions options;
    options.clock = clock;
    Engine engine(options);
    Workflow wf = load(engine, dir, breaker_flow);
    const Value bad = Value::from_json(R"({"fail":true})");
    wf.process(bad);
    wf.process(bad);
    clock->now = clock->now.load() + 600;
    CHECK(wf.process(bad).error->name == "Upstream");  // the trial
    CHECK(wf.process(bad).error->name == "CircuitOpen");
    CHECK(count_of(wf, "main/call", "circuit_breaker", "opened") == 2);

    Workflow other = load(engine, dir, R"toml(
name = "watch"
[networks.main.states.call]
start = true
end = true
transform = { lua = "error({ name = 'Other', message = 'not watched' })" }
circuit_breaker = { failures = 1, errors = ["Upstream"] }
)toml");
    CHECK(other.process(Value::object()).error->name == "Other");
    CHECK(other.process(Value::object()).error->name == "Other");
    CHECK(status_of(other, "main/call") == "closed");
}

TEST_CASE("strategies - CircuitOpen goes to fallback: the record goes on with the fallback's data") {
    statenet_test::TempDir dir;
    Engine engine;
    Workflow wf = load(engine, dir, R"toml(
name = "fallback"
[networks.main.states.price]
start = true
transform = { lua = "data.price = 10; error({ name = 'Upstream', message = 'no price' })" }
fallback = { lua = "data.price = 0; data.why = ctx.error.name .. ': ' .. ctx.error.message" }
circuit_breaker = { failures = 1, reset_ms = 60000 }
[[networks.main.states.price.arcs]]
to = "done"
[networks.main.states.done]
end = true
transform = { lua = "data.done = true" }
)toml");
    Result first = wf.process(Value::object());
    REQUIRE(first.ok);
    // Copy mode: the failed transform's price is gone; the fallback saw the entry data.
    CHECK(first.data["price"].as_int() == 0);
    CHECK(first.data["why"].as_string() == "Upstream: no price");
    CHECK(first.data["done"].as_bool());
    Result second = wf.process(Value::object());
    REQUIRE(second.ok);
    CHECK(second.data["why"].as_string().find("CircuitOpen: ") == 0);
    CHECK(count_of(wf, "main/price", "fallback", "used") == 2);
}

TEST_CASE("strategies - fallback comes after retries; a failing fallback goes to on_error, not again to itself") {
    statenet_test::TempDir dir;
    auto clock = std::make_shared<StepClock>();
    EngineOptions options;
    options.clock = clock;
    Engine engine(options);
    Workflow wf = load(engine, dir, R"toml(
name = "fallback"
[networks.main.states.work]
start = true
end = true
transform = { lua = "data.tries = (data.tries or 0) + 1; error('always')" }
retry = { errors = ["LuaError"], attempts = 2, interval_ms = 10 }
fallback = { lua = "error({ name = 'NoFallback', message = 'the fallback failed too' })" }
on_error = { errors = ["NoFallback"], to = "failed" }
[networks.main.states.failed]
end = true
transform = { lua = "data.caught = ctx.error.name" }
)toml");
    Result r = wf.process(Value::object());
    REQUIRE(r.ok);
    CHECK(r.final_state == "main/failed");
    CHECK(r.data["caught"].as_string() == "NoFallback");
    CHECK(count_of(wf, "main/work", "retry", "retries") == 2);
    CHECK(count_of(wf, "main/work", "fallback", "used") == 0);
}

TEST_CASE("strategies - deadline_ms stops a state's Lua with DeadlineExceeded, which retry and on_error handle") {
    statenet_test::TempDir dir;
    Engine engine;
    Workflow wf = load(engine, dir, R"toml(
name = "deadline"
[networks.main.states.slow]
start = true
end = true
deadline_ms = 50
transform = { lua = "if ctx.attempt == 0 then while true do end end data.attempts = ctx.attempt + 1" }
retry = { errors = ["DeadlineExceeded"], attempts = 1, interval_ms = 0 }
)toml");
    Result r = wf.process(Value::object());
    REQUIRE(r.ok);
    CHECK(r.data["attempts"].as_int() == 2);
    CHECK(count_of(wf, "main/slow", "deadline", "exceeded") == 1);

    Workflow caught = load(engine, dir, R"toml(
name = "deadline"
[networks.main.states.slow]
start = true
end = true
deadline_ms = 30
transform = { lua = "while true do end" }
on_error = { errors = ["DeadlineExceeded"], to = "late" }
[networks.main.states.late]
end = true
transform = { lua = "data.late = ctx.error.message" }
)toml");
    Result late = caught.process(Value::object());
    REQUIRE(late.ok);
    CHECK(late.data["late"].as_string().find("state exceeded its deadline_ms = 30") != std::string::npos);
}

TEST_CASE("strategies - a bulkhead refuses records beyond its cap with BulkheadFull") {
    statenet_test::TempDir dir;
    Engine engine;
    Workflow wf = load(engine, dir, R"toml(
name = "bulkhead"
[limits]
call_ms = 600000  # a busy machine may stretch the one-second loop past the default 10 s
[networks.main.states.narrow]
start = true
end = true
bulkhead = 1
transform = { lua = "local t = os.clock() + 1 while os.clock() < t do end data.ok = true" }
)toml");
    std::vector<Value> records(2, Value::object());
    auto results = wf.process_batch(records, {.workers = 2});
    int refused = 0, passed = 0;
    for (const auto& r : results) {
        if (r.ok) ++passed;
        else if (r.error->name == "BulkheadFull") ++refused;
    }
    CHECK(passed == 1);
    CHECK(refused == 1);
    CHECK(count_of(wf, "main/narrow", "bulkhead", "refused") == 1);
    // Once the place is free again, the next record goes in.
    CHECK(wf.process(Value::object()).ok);
}

TEST_CASE("strategies - cache: a state's result is kept in SQLite by its key fields until ttl_ms") {
    statenet_test::TempDir dir;
    const std::string flow = R"toml(
name = "cache"
[networks.main.states.look]
start = true
transform = { lua = "data.looked = (data.looked or 0) + 1; data.name = 'item-' .. data.id" }
cache = { key = ["id"], ttl_ms = 60000, db = "cache.db" }
[[networks.main.states.look.arcs]]
to = "done"
[networks.main.states.done]
end = true
)toml";
    {
        Engine engine;
        Workflow wf = load(engine, dir, flow);
        Result first = wf.process(Value::from_json(R"({"id":1,"note":"a"})"));
        REQUIRE(first.ok);
        CHECK(first.data.to_json() == R"({"id":1,"note":"a","looked":1,"name":"item-1"})");
        // The key is `id` only: what the state changed comes back, the record keeps its note.
        Result again = wf.process(Value::from_json(R"({"id":1,"note":"b"})"));
        REQUIRE(again.ok);
        CHECK(again.final_state == "main/done");
        CHECK(again.data["note"].as_string() == "b");
        CHECK(again.data["looked"].as_int() == 1);
        CHECK(again.data["name"].as_string() == "item-1");
        CHECK(wf.process(Value::from_json(R"({"id":2})")).data["looked"].as_int() == 1);
        CHECK(count_of(wf, "main/look", "cache", "hits") == 1);
        CHECK(count_of(wf, "main/look", "cache", "misses") == 2);
    }
    // The cache outlives the process: another engine finds the result in the file.
    Engine engine;
    Workflow wf = load(engine, dir, flow);
    CHECK(wf.process(Value::from_json(R"({"id":2})")).data["name"].as_string() == "item-2");
    CHECK(count_of(wf, "main/look", "cache", "hits") == 1);
    // A result past its ttl is not used.
    Workflow brief = load(engine, dir, R"toml(
name = "cache"
[networks.main.states.look]
start = true
end = true
transform = { lua = "data.n = (data.n or 0) + 1" }
cache = { ttl_ms = 1, db = "brief.db" }
)toml");
    CHECK(brief.process(Value::from_json(R"({"k":1})")).data["n"].as_int() == 1);
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    CHECK(brief.process(Value::from_json(R"({"k":1})")).data["n"].as_int() == 1);
    CHECK(count_of(brief, "main/look", "cache", "misses") == 2);
}

TEST_CASE("strategies - compensate: a failing record undoes what earlier states did, in reverse order") {
    statenet_test::TempDir dir;
    std::vector<std::string> said;  // the compensations' ctx.log lines, in order
    EngineOptions options;
    options.log = [&](const statenet::LogRecord& r) {
        said.push_back(std::string(r.state) + " " + std::string(r.message));
    };
    Engine engine(options);
    Workflow wf = load(engine, dir, R"toml(
name = "saga"
[networks.main.states.reserve]
start = true
transform = { lua = "data.reserved = true" }
compensate = { lua = "ctx.log.info('unreserve after ' .. ctx.error.name .. ' in ' .. ctx.error.state)" }
[[networks.main.states.reserve.arcs]]
to = "charge"
[networks.main.states.charge]
transform = { lua = "data.charged = true" }
compensate = [{ lua = "ctx.log.info('refund ' .. tostring(data.charged))" }, { lua = "error('refund desk closed')" }]
[[networks.main.states.charge.arcs]]
to = "ship"
[networks.main.states.ship]
end = true
transform = { lua = "if data.fail then error({ name = 'ShipFailed', message = 'no truck' }) end" }
)toml");
    Result r = wf.process(Value::from_json(R"({"fail":true})"));
    REQUIRE_FALSE(r.ok);
    CHECK(r.error->name == "ShipFailed");
    REQUIRE(said.size() == 3);
    CHECK(said[0] == "main/charge refund true");
    CHECK(said[1].find("compensation of state main/charge failed: LuaError: ") == 1);
    CHECK(said[2] == "main/reserve unreserve after ShipFailed in main/ship");
    CHECK(count_of(wf, "main/reserve", "compensate", "ran") == 1);
    CHECK(count_of(wf, "main/charge", "compensate", "failed") == 1);
    said.clear();
    CHECK(wf.process(Value::from_json(R"({"fail":false})")).ok);
    CHECK(said.empty());
}

TEST_CASE("strategies - an on_error catcher with compensate = true runs the compensations before it routes") {
    statenet_test::TempDir dir;
    std::vector<std::string> said;
    EngineOptions options;
    options.log = [&](const statenet::LogRecord& r) { said.push_back(std::string(r.message)); };
    Engine engine(options);
    Workflow wf = load(engine, dir, R"toml(
name = "saga"
[networks.main.states.book]
start = true
transform = { lua = "data.booked = true" }
compensate = { lua = "ctx.log.info('cancel booking')" }
[[networks.main.states.book.arcs]]
to = "pay"
[networks.main.states.pay]
end = true
transform = { lua = "error({ name = 'Declined', message = 'card declined' })" }
on_error = { errors = ["Declined"], to = "undone", compensate = true }
[networks.main.states.undone]
end = true
transform = { lua = "ctx.log.info('undone')" }
)toml");
    Result r = wf.process(Value::object());
    REQUIRE(r.ok);
    CHECK(r.final_state == "main/undone");
    CHECK(said == std::vector<std::string>{"cancel booking", "undone"});
}

TEST_CASE("strategies - load errors point at the key") {
    CHECK(load_error(R"toml(name = "x"
[networks.main.states.a]
start = true
end = true
retry = { errors = ["*"], backoff = "linaer" }
)toml")
              .find("strategies.toml:5:37: unknown backoff 'linaer' (expected exponential, fixed, linear, random or "
                    "a number) (did you mean 'linear'?)") != std::string::npos);
    CHECK(load_error(R"toml(name = "x"
[networks.main.states.a]
start = true
end = true
cache = { key = "id" }
)toml")
              .find("strategies.toml:5:9: cache needs 'ttl_ms'") != std::string::npos);
    CHECK(load_error(R"toml(name = "x"
[networks.main.states.a]
start = true
end = true
circuit_breaker = { failures = 0 }
)toml")
              .find("strategies.toml:5:") != std::string::npos);
    CHECK(load_error(R"toml(name = "x"
strategy = "breadth_first"
[networks.main.states.a]
start = true
end = true
bulkhead = 2
)toml")
              .find("recovery strategies need strategy = \"depth_first\"") != std::string::npos);
    CHECK(load_error(R"toml(name = "x"
[networks.main.states.a]
start = true
end = true
fallback = "nosuch.fn"
)toml")
              .find("strategies.toml:5:12: unknown module 'nosuch'") != std::string::npos);
}
