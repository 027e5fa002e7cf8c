// Record execution semantics (SPEC section 5 and 6) through the public API.
#include "exec_helpers.hpp"
#include "temp_dir.hpp"

#include <statenet/statenet.hpp>

#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

using statenet::Engine;
using statenet::Result;
using statenet::Value;
using statenet::Workflow;

using exec_test::load;
using exec_test::Path;
using exec_test::run;
using statenet_test::exec_dir;

namespace {

/// A clock that only moves when the engine sleeps, or when a test moves it.
class FakeClock final : public statenet::Clock {
public:
    double now = 1000;
    std::vector<double> sleeps;
    double now_ms() override { return now; }
    void sleep_ms(double ms) override {
        sleeps.push_back(ms);
        now += ms;
    }
};

const char* pipeline = R"(
name = "pipeline"
[networks.main.states.a]
start = true
[[networks.main.states.a.arcs]]
to = "b"
transform = ["steps.add_a", "steps.add_b"]
[networks.main.states.b]
[[networks.main.states.b.arcs]]
to = "c"
transform = "steps.add_c"
[networks.main.states.c]
end = true
)";

}  // namespace

TEST_CASE("exec - linear pipeline runs arc transforms in list order") {
    Result r = run(pipeline, R"({"id": 7})");
    REQUIRE(r.ok);
    CHECK(r.final_state == "main/c");
    CHECK(r.path == Path{"main/a", "main/b", "main/c"});
    CHECK(r.data["trail"].as_string() == "abc");
    CHECK(r.data["id"].as_int() == 7);
    CHECK(r.transitions == 2);
    REQUIRE(r.run_id.size() == 36);  // a version 4 UUID
    CHECK(r.run_id[8] == '-');
    CHECK(r.run_id[14] == '4');
    CHECK(r.run_id != run(pipeline, "{}").run_id);
}

TEST_CASE("exec - a state transform that returns a table replaces the data") {
    Result r = run(R"(
name = "replace"
[networks.main.states.s]
start = true
end = true
transform = "steps.replace"
)",
                   R"({"id": 3, "other": "x"})");
    REQUIRE(r.ok);
    CHECK(r.data == Value::from_json(R"({"replaced": true, "old_id": 3})"));
}

TEST_CASE("exec - a conditional branch goes both ways") {
    const char* wf = R"(
name = "branch"
[networks.main.states.start]
start = true
[[networks.main.states.start.arcs]]
to = "big"
when = "steps.is_big"
[[networks.main.states.start.arcs]]
to = "small"
when = { lua = "data.amount < 100" }
[networks.main.states.big]
end = true
[networks.main.states.small]
end = true
)";
    CHECK(run(wf, R"({"amount": 500})").final_state == "main/big");
    CHECK(run(wf, R"({"amount": 5})").final_state == "main/small");
}

TEST_CASE("exec - equal priorities take the first defined arc") {
    Result r = run(R"(
name = "ties"
[networks.main.states.s]
start = true
[[networks.main.states.s.arcs]]
to = "first"
priority = 5
[[networks.main.states.s.arcs]]
to = "second"
priority = 5
[networks.main.states.first]
end = true
[networks.main.states.second]
end = true
)",
                   "{}");
    CHECK(r.final_state == "main/first");
}

TEST_CASE("exec - a higher priority wins whatever the definition order") {
    Result r = run(R"(
name = "priority"
[networks.main.states.s]
start = true
[[networks.main.states.s.arcs]]
to = "low"
[[networks.main.states.s.arcs]]
to = "high"
priority = 10
[[networks.main.states.s.arcs]]
to = "low"
priority = -1
[networks.main.states.low]
end = true
[networks.main.states.high]
end = true
)",
                   "{}");
    CHECK(r.final_state == "main/high");
}

TEST_CASE("exec - reaching an error end state is still ok") {
    Result r = run(R"(
name = "rejecting"
[networks.main.states.check]
start = true
[[networks.main.states.check.arcs]]
to = "rejected"
when = { lua = "data.amount < 0" }
[[networks.main.states.check.arcs]]
to = "accepted"
[networks.main.states.rejected]
end = true
emit = false
[networks.main.states.accepted]
end = true
)",
                   R"({"amount": -5})");
    CHECK(r.ok);
    CHECK(!r.error);
    CHECK(r.final_state == "main/rejected");
    CHECK(!r.emit);
}

TEST_CASE("exec - no passing arc fails with NoTransition naming the state") {
    Result r = run(R"(
name = "stuck"
[networks.main.states.waiting]
start = true
[[networks.main.states.waiting.arcs]]
to = "done"
when = "steps.never"
[networks.main.states.done]
end = true
)",
                   "{}");
    REQUIRE(!r.ok);
    CHECK(r.error->name == "NoTransition");
    CHECK(r.error->message.find("waiting") != std::string::npos);
    CHECK(r.error->state == "main/waiting");
}

TEST_CASE("exec - a self-loop counts to 3 with the exact path") {
    Result r = run(R"(
name = "loop"
[networks.main.states.start]
start = true
[[networks.main.states.start.arcs]]
to = "loop"
[networks.main.states.loop]
transform = "steps.count"
[[networks.main.states.loop.arcs]]
to = "loop"
when = "steps.below_3"
[[networks.main.states.loop.arcs]]
to = "done"
[networks.main.states.done]
end = true
)",
                   "{}");
    REQUIRE(r.ok);
    CHECK(r.data["n"].as_int() == 3);
    CHECK(r.path == Path{"main/start", "main/loop", "main/loop", "main/loop", "main/done"});
    CHECK(r.transitions == 4);
}

TEST_CASE("exec - an unconditional self-loop fails with MaxTransitions") {
    const char* body = R"(
[networks.main.states.spin]
start = true
transform = "steps.count"
[[networks.main.states.spin.arcs]]
to = "spin"
)";
    Result r = run(std::string("name = \"spin\"\n") + body, "{}");
    REQUIRE(!r.ok);
    CHECK(r.error->name == "MaxTransitions");
    CHECK(r.transitions == 1001);

    Result limited = run(std::string("name = \"spin\"\nmax_transitions = 7\n") + body, "{}");
    REQUIRE(!limited.ok);
    CHECK(limited.error->name == "MaxTransitions");
    CHECK(limited.error->message.find("7") != std::string::npos);
    CHECK(limited.path.size() == 8);
}

TEST_CASE("exec - a pre-validator returning false stops the transform from running") {
    Result r = run(R"(
name = "pre"
[networks.main.states.s]
start = true
end = true
pre_validate = "steps.reject"
transform = "steps.mark_ran"
)",
                   R"({"id": -1})");
    REQUIRE(!r.ok);
    CHECK(r.error->name == "ValidationFailed");
    CHECK(r.error->message == "id must be positive");
    CHECK(!r.data.contains("transform_ran"));
}

TEST_CASE("exec - a post validator failure fails the record") {
    Result r = run(R"(
name = "post"
[networks.main.states.s]
start = true
end = true
transform = "steps.mark_ran"
validate = "steps.field_errors"
)",
                   R"({"amount": 5})");
    REQUIRE(!r.ok);
    CHECK(r.error->name == "ValidationFailed");
    CHECK(r.error->message == "amount: too large");
    // Copy mode: the failed step's transform is rolled back.
    CHECK(!r.data.contains("transform_ran"));
}

TEST_CASE("exec - condition truthiness follows Lua: only false and nil fail") {
    auto pick = [](const char* expr) {
        std::string wf = std::string(R"(
name = "truth"
[networks.main.states.s]
start = true
[[networks.main.states.s.arcs]]
to = "yes"
when = { lua = ")") + expr +
                         R"(" }
[[networks.main.states.s.arcs]]
to = "no"
[networks.main.states.yes]
end = true
[networks.main.states.no]
end = true
)";
        return run(wf, "{}").final_state;
    };
    CHECK(pick("false") == "main/no");
    CHECK(pick("nil") == "main/no");
    CHECK(pick("data.missing") == "main/no");
    CHECK(pick("0") == "main/yes");
    CHECK(pick("''") == "main/yes");
    CHECK(pick("{}") == "main/yes");
}

TEST_CASE("exec - a named Lua error keeps its name and on_error routes with ctx.error") {
    Result r = run(R"(
name = "catch"
[networks.main.states.pay]
start = true
transform = "steps.named"
on_error = [{ errors = ["PaymentDeclined"], to = "declined" }]
[[networks.main.states.pay.arcs]]
to = "done"
[networks.main.states.declined]
end = true
transform = "steps.record_error"
[networks.main.states.done]
end = true
)",
                   "{}");
    REQUIRE(r.ok);
    CHECK(r.final_state == "main/declined");
    CHECK(r.data["caught"].as_string() == "PaymentDeclined|card declined|main/pay");
    CHECK(r.path == Path{"main/pay", "main/declined"});
}

TEST_CASE("exec - an error in a state entered through a plain arc is that state's: its on_error, path and name") {
    // validate -> pay is a plain arc: the runtime runs both states in one call, and the
    // error raised in pay must still be pay's (not the first state's).
    const std::string wf = R"(
name = "chained_error"
[networks.main.states.validate]
start = true
[[networks.main.states.validate.arcs]]
to = "pay"
[networks.main.states.pay]
transform = "steps.named"
on_error = [{ errors = ["PaymentDeclined"], to = "declined" }]
[[networks.main.states.pay.arcs]]
to = "done"
[networks.main.states.declined]
end = true
transform = "steps.record_error"
[networks.main.states.done]
end = true
)";
    Result r = run(wf, "{}");
    REQUIRE(r.ok);
    CHECK(r.final_state == "main/declined");
    CHECK(r.data["caught"].as_string() == "PaymentDeclined|card declined|main/pay");
    CHECK(r.path == Path{"main/validate", "main/pay", "main/declined"});
    std::string uncaught = wf;
    uncaught.replace(uncaught.find("on_error"),
                     uncaught.find('\n', uncaught.find("on_error")) - uncaught.find("on_error"), "");
    Result failed = run(uncaught, "{}");
    REQUIRE(!failed.ok);
    CHECK(failed.error->name == "PaymentDeclined");
    CHECK(failed.error->state == "main/pay");
    CHECK(failed.final_state == "main/pay");
}

TEST_CASE("exec - on_error does not catch an error it does not list") {
    Result r = run(R"(
name = "uncaught"
[networks.main.states.pay]
start = true
end = true
transform = "steps.named"
on_error = [{ errors = ["LuaError"], to = "other" }]
[networks.main.states.other]
end = true
)",
                   "{}");
    REQUIRE(!r.ok);
    CHECK(r.error->name == "PaymentDeclined");
}

TEST_CASE("exec - retry succeeds on the 3rd attempt with the configured backoff") {
    auto clock = std::make_shared<FakeClock>();
    Engine engine({.clock = clock});
    Workflow wf = load(engine, R"(
name = "retry"
[networks.main.states.call]
start = true
end = true
transform = "steps.flaky"
retry = [{ errors = ["ValidationFailed"], attempts = 5 },
         { errors = ["LuaError"], attempts = 3, interval_ms = 100, backoff = 2.0 }]
)");
    Result r = wf.process(Value::from_json(R"({"succeed_on": 2})"));
    REQUIRE(r.ok);
    CHECK(clock->sleeps == std::vector<double>{100, 200});
    // Copy mode: each attempt starts from the state's entry data.
    CHECK(r.data["attempts_seen"].as_string() == "2");
    CHECK(r.path == Path{"main/call"});

    clock->sleeps.clear();
    Result spent = wf.process(Value::from_json(R"({"succeed_on": 9})"));
    REQUIRE(!spent.ok);
    CHECK(spent.error->name == "LuaError");
    CHECK(clock->sleeps == std::vector<double>{100, 200, 400});
}

TEST_CASE("exec - retry delays are capped by max_delay_ms and bounded by full jitter") {
    auto clock = std::make_shared<FakeClock>();
    Engine engine({.clock = clock});
    Workflow wf = load(engine, R"(
name = "capped"
[networks.main.states.call]
start = true
end = true
transform = "steps.flaky"
retry = [{ errors = ["*"], attempts = 4, interval_ms = 100, backoff = 3.0, max_delay_ms = 500, jitter = "none" }]
)");
    CHECK(!wf.process(Value::from_json(R"({"succeed_on": 9})")).ok);
    CHECK(clock->sleeps == std::vector<double>{100, 300, 500, 500});

    clock->sleeps.clear();
    Workflow jittered = load(engine, R"(
name = "jitter"
[networks.main.states.call]
start = true
end = true
transform = "steps.flaky"
retry = [{ errors = ["*"], attempts = 3, interval_ms = 100, backoff = 2.0, jitter = "full" }]
)");
    CHECK(!jittered.process(Value::from_json(R"({"succeed_on": 9})")).ok);
    REQUIRE(clock->sleeps.size() == 3);
    CHECK(clock->sleeps[0] <= 100);
    CHECK(clock->sleeps[1] <= 200);
    CHECK(clock->sleeps[2] <= 400);
}

TEST_CASE("exec - timeout_ms fails the record with Timeout") {
    auto clock = std::make_shared<FakeClock>();
    Engine engine({.clock = clock});
    Workflow wf = load(engine, R"(
name = "timeout"
timeout_ms = 250
[networks.main.states.call]
start = true
end = true
transform = "steps.flaky"
retry = [{ errors = ["*"], attempts = 10, interval_ms = 100, backoff = 1.0 }]
)");
    Result r = wf.process(Value::from_json(R"({"succeed_on": 9})"));
    REQUIRE(!r.ok);
    CHECK(r.error->name == "Timeout");
    CHECK(clock->sleeps.size() == 2);
}

TEST_CASE("exec - ctx.vars are readable, read-only, and overridable at load") {
    const char* wf = R"(
name = "vars"
[vars]
rate = 0.25
[networks.main.states.s]
start = true
end = true
transform = "steps.read_var"
)";
    CHECK(run(wf, "{}").data["rate"].as_number() == doctest::Approx(0.25));
    Engine engine;
    Workflow overridden = engine.load_string(wf, exec_dir / "vars.toml", {.vars = {{"rate", Value(0.5)}}});
    CHECK(overridden.process(Value::object()).data["rate"].as_number() == doctest::Approx(0.5));

    Result write = run(R"(
name = "write_vars"
[vars]
rate = 1
[networks.main.states.s]
start = true
end = true
transform = "steps.write_var"
)",
                       "{}");
    REQUIRE(!write.ok);
    CHECK(write.error->message.find("read-only") != std::string::npos);
}

TEST_CASE("exec - ctx.vars can be iterated and its nested tables are read-only too") {
    const char* wf = R"(
name = "vars_nested"
[vars]
rate = 1
limits = { max = 10 }
[networks.main.states.s]
start = true
end = true
transform = "steps.%s"
)";
    auto with = [&](const char* fn) {
        std::string text(wf);
        text.replace(text.find("%s"), 2, fn);
        return run(text, "{}");
    };
    Result listed = with("list_vars");
    REQUIRE(listed.ok);
    CHECK(listed.data["var_keys"].as_string() == "limits,rate");
    CHECK(listed.data["limit"].as_int() == 10);
    CHECK(listed.data["limits"] == Value::from_json(R"({"max": 10})"));
    Result write = with("write_nested_var");
    REQUIRE(!write.ok);
    CHECK(write.error->message.find("read-only") != std::string::npos);
}

TEST_CASE("exec - schema violations name each bad field") {
    Result r = run(R"(
name = "schema"
[networks.main.states.s]
start = true
end = true
schema = { id = "integer", amount = "number", email = "string?" }
)",
                   R"({"id": 1.5, "email": 3})");
    REQUIRE(!r.ok);
    CHECK(r.error->name == "SchemaViolation");
    CHECK(r.error->message.find("id: expected integer") != std::string::npos);
    CHECK(r.error->message.find("amount: required number is missing") != std::string::npos);
    CHECK(r.error->message.find("email: expected string") != std::string::npos);
}

TEST_CASE("exec - ctx.log reaches the host's log sink") {
    std::vector<std::string> lines;
    Engine engine({.log = [&](const statenet::LogRecord& rec) {
        lines.push_back(std::string(rec.state) + " " + std::string(rec.message) + " " + rec.fields.to_json());
    }});
    Workflow wf = load(engine, R"wf(
name = "log"
[networks.main.states.s]
start = true
end = true
transform = { lua = "ctx.log.info('hello', { n = 1 })" }
)wf");
    REQUIRE(wf.process(Value::object()).ok);
    CHECK(lines == std::vector<std::string>{R"(main/s hello {"n":1})"});
}

TEST_CASE("exec - process_batch runs records on several workers and keeps input order") {
    Engine engine;
    Workflow wf = load(engine, R"(
name = "batch"
[networks.main.states.s]
start = true
transform = "steps.count"
[[networks.main.states.s.arcs]]
to = "big"
when = "steps.is_big"
[[networks.main.states.s.arcs]]
to = "small"
when = { lua = "data.amount >= 0" }
[networks.main.states.big]
end = true
[networks.main.states.small]
end = true
)");
    std::vector<Value> records;
    for (int i = 0; i < 1000; ++i) records.push_back(Value::object({{"id", i}, {"amount", i % 7 == 0 ? -1 : i}}));
    auto results = wf.process_batch(records, {.workers = 2});
    REQUIRE(results.size() == records.size());
    for (int i = 0; i < 1000; ++i) {
        CAPTURE(i);
        CHECK(results[i].data["id"].as_int() == i);
        if (i % 7 == 0) {
            CHECK(!results[i].ok);
            CHECK(results[i].error->name == "NoTransition");
            CHECK(!results[i].data.contains("n"));  // the failed step rolled back
        } else {
            CHECK(results[i].final_state == (i >= 100 ? "main/big" : "main/small"));
            CHECK(results[i].data["n"].as_int() == 1);
        }
    }
    CHECK(wf.process_batch({}).empty());
}

TEST_CASE("exec - concurrent process calls each get their own Lua VM") {
    Engine engine;
    Workflow wf = load(engine, pipeline);
    std::vector<std::thread> threads;
    std::vector<int> ok(4, 0);
    for (int t = 0; t < 4; ++t)
        threads.emplace_back([&, t] {
            for (int i = 0; i < 200; ++i)
                if (wf.process(Value::object({{"id", i}})).data["trail"].as_string() == "abc") ++ok[t];
        });
    for (auto& th : threads) th.join();
    CHECK(ok == std::vector<int>{200, 200, 200, 200});
}

TEST_CASE("exec - a record that is not a JSON object fails with SchemaViolation") {
    Result r = run(pipeline, "[1, 2]");
    REQUIRE(!r.ok);
    CHECK(r.error->name == "SchemaViolation");
    CHECK(r.error->message.find("array") != std::string::npos);
}

TEST_CASE("exec - objects inside arrays keep their field order") {
    Result r = run(pipeline, R"({"items": [{"z": 1, "a": 2, "m": 3}]})");
    REQUIRE(r.ok);
    const auto& item = r.data["items"][0].as_object();
    CHECK(item[0].first == "z");
    CHECK(item[1].first == "a");
    CHECK(item[2].first == "m");
}

TEST_CASE("exec - copy mode passes untouched fields through exactly; direct mode reads all back") {
    const char* input = R"({"big": 9007199254740993, "gone": null, "id": 1})";
    Result copy = run(pipeline, input);
    REQUIRE(copy.ok);
    CHECK(copy.data.to_json() == R"({"big":9007199254740993,"gone":null,"id":1,"trail":"abc"})");

    Engine engine;
    Result direct = load(engine, pipeline).process(Value::from_json(input), {.mode = statenet::DataMode::direct});
    REQUIRE(direct.ok);
    CHECK(!direct.data.contains("gone"));
    CHECK(direct.data["trail"].as_string() == "abc");
}
