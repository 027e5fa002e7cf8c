// Wait states: a record parks (Result::parked, listed by History::parked), a signal
// resumes it once with ctx.signal (Workflow::signal, Engine::signal from another engine),
// deadlines fail it with SignalTimeout, streams count parked records, and what cannot
// wait is refused at load.
#include "temp_dir.hpp"
#include "test_paths.hpp"

#include <statenet/statenet.hpp>

#include <doctest/doctest.h>

#include <algorithm>
#include <fstream>
#include <string>

using statenet::Engine;
using statenet::Value;

namespace {

const std::filesystem::path approval =
    std::filesystem::path(STATENET_SOURCE_DIR) / "tests/workflows/wait/approval.toml";

statenet::LoadOptions history_in(const std::filesystem::path& db) {
    statenet::LoadOptions options;
    options.history_db = db;
    return options;
}

/// Every diagnostic of loading `toml`, one per line.
std::string load_errors(const std::string& toml) {
    Engine engine;
    try {
        engine.load_string(toml, "wf.toml");
    } catch (const statenet::LoadError& e) {
        std::string text;
        for (const auto& d : e.diagnostics()) text += d.str() + "\n";
        return text;
    }
    return "";
}

void write_file(const std::filesystem::path& path, const std::string& text) { std::ofstream(path) << text; }

}  // namespace

TEST_CASE("wait - a record parks after its state's functions, neither ok nor failed, and is listed") {
    statenet_test::TempDir dir;
    Engine engine;
    auto wf = engine.load(approval, history_in(dir / "h.db"));
    auto small = wf.process(Value::from_json(R"({"amount": 5})"));
    CHECK(small.ok);
    CHECK_FALSE(small.parked);
    auto r = wf.process(Value::from_json(R"({"amount": 500})"));
    CHECK_FALSE(r.ok);
    CHECK(r.parked);
    CHECK_FALSE(r.error);
    CHECK(r.signal == "approval");
    CHECK(r.final_state == "main/await_approval");
    CHECK(r.data["requested"] == Value(true));
    CHECK(r.path == std::vector<std::string>{"main/intake", "main/await_approval"});
    CHECK(r.to_value()["parked"] == Value(true));
    wf.flush_history();
    statenet::History history(dir / "h.db");
    auto parked = history.parked();
    REQUIRE(parked.size() == 1);
    CHECK(parked[0].run_id == r.run_id);
    CHECK(parked[0].state == "main/await_approval");
    CHECK(parked[0].signal == "approval");
    CHECK(parked[0].status == "waiting");
    CHECK(parked[0].workflow == "approvals");
    REQUIRE(parked[0].deadline_us);
    CHECK(*parked[0].deadline_us - parked[0].parked_us == doctest::Approx(3600000000.0).epsilon(0.001));
    // Only the finished run is in the history: a parked one is recorded when it ends.
    CHECK(history.runs().size() == 1);
}

TEST_CASE("wait - a signal resumes the record once, with its payload in ctx.signal") {
    statenet_test::TempDir dir;
    Engine engine;
    auto wf = engine.load(approval, history_in(dir / "h.db"));
    auto parked = wf.process(Value::from_json(R"({"amount": 500})"));
    REQUIRE(parked.parked);
    CHECK_THROWS_WITH_AS(wf.signal(parked.run_id, "payment"),
                         doctest::Contains("waits in state main/await_approval for signal 'approval', not 'payment'"),
                         statenet::SignalError);
    auto r = wf.signal(parked.run_id, "approval", Value::from_json(R"({"approved": true, "approved_by": "ann"})"));
    REQUIRE(r.ok);
    CHECK(r.final_state == "main/approved");
    CHECK(r.run_id == parked.run_id);
    CHECK(r.data["approved_by"] == Value("ann"));
    CHECK(r.data["amount"] == Value(500));
    CHECK(r.path == std::vector<std::string>{"main/intake", "main/await_approval", "main/approved"});
    CHECK(r.transitions == 2);
    CHECK_THROWS_WITH_AS(wf.signal(parked.run_id, "approval"), doctest::Contains("was already resumed (by approval"),
                         statenet::SignalError);
    CHECK_THROWS_WITH_AS(wf.signal("ffffffff", "approval"), doctest::Contains("no record is parked under run id"),
                         statenet::SignalError);
    wf.flush_history();
    statenet::History history(dir / "h.db");
    CHECK(history.parked().empty());
    auto all = history.parked(true);
    REQUIRE(all.size() == 1);
    CHECK(all[0].status == "resumed");
    CHECK(all[0].resumed_by == "approval");
    auto run = history.run(parked.run_id);
    CHECK(run.ok);
    CHECK(run.final_state == "main/approved");
}

TEST_CASE("wait - Engine::signal loads the parked record's workflow from its file, in another engine") {
    statenet_test::TempDir dir;
    std::string run_id;
    {
        Engine first;
        auto wf = first.load(approval, history_in(dir / "h.db"));
        run_id = wf.process(Value::from_json(R"({"amount": 500})")).run_id;
    }
    Engine second;
    auto r = second.signal(dir / "h.db", run_id.substr(0, 8), "approval", Value::from_json(R"({"approved": false})"));
    CHECK(r.ok);
    CHECK(r.final_state == "main/rejected");
    CHECK_FALSE(r.emit);
    CHECK_THROWS_AS(second.signal(dir / "h.db", run_id, "approval"), statenet::SignalError);
}

TEST_CASE("wait - expire_signals fails overdue records with SignalTimeout, which on_error routes") {
    statenet_test::TempDir dir;
    Engine engine;
    auto wf = engine.load(approval, history_in(dir / "h.db"));
    auto parked = wf.process(Value::from_json(R"({"amount": 500})"));
    REQUIRE(parked.parked);
    CHECK(engine.expire_signals(dir / "h.db").empty());  // its hour has not passed
    auto results = engine.expire_signals(dir / "h.db", statenet::history_now_us() + 2LL * 3600 * 1000000);
    REQUIRE(results.size() == 1);
    CHECK(results[0].ok);
    CHECK(results[0].final_state == "main/expired");
    CHECK(results[0].data["expired"] == Value("SignalTimeout"));
    CHECK(results[0].run_id == parked.run_id);
    CHECK_THROWS_WITH_AS(wf.signal(parked.run_id, "approval"), doctest::Contains("already resumed (by SignalTimeout"),
                         statenet::SignalError);
}

TEST_CASE("wait - without on_error a timed out record fails with SignalTimeout; ctx.signal is read-only") {
    statenet_test::TempDir dir;
    write_file(dir / "wf.toml", R"(
name = "strict"
[networks.main.states.ask]
start = true
wait = { signal = "answer", timeout_ms = 10 }
[[networks.main.states.ask.arcs]]
to = "done"
transform = { lua = "ctx.signal.seen = true" }
[networks.main.states.done]
end = true
)");
    Engine engine;
    statenet::LoadOptions options;
    options.park_db = dir / "park.db";
    auto wf = engine.load(dir / "wf.toml", options);
    auto a = wf.process(Value::object());
    auto b = wf.process(Value::object());
    REQUIRE(a.parked);
    auto answered = wf.signal(a.run_id, "answer", Value::from_json(R"({"x": 1})"));
    CHECK_FALSE(answered.ok);
    REQUIRE(answered.error);
    CHECK(answered.error->name == "LuaError");
    CHECK(answered.error->message.find("ctx.signal is read-only") != std::string::npos);
    auto expired = engine.expire_signals(dir / "park.db", statenet::history_now_us() + 1000000);
    REQUIRE(expired.size() == 1);
    CHECK(expired[0].run_id == b.run_id);
    REQUIRE(expired[0].error);
    CHECK(expired[0].error->name == "SignalTimeout");
    CHECK(expired[0].error->message == "no signal 'answer' came within timeout_ms = 10");
    CHECK(expired[0].error->state == "main/ask");
}

TEST_CASE("wait - a resumed record that reaches another wait state parks again under its run id") {
    statenet_test::TempDir dir;
    write_file(dir / "wf.toml", R"(
name = "two"
[networks.main.states.first]
start = true
wait = { signal = "one" }
[[networks.main.states.first.arcs]]
to = "second"
transform = { lua = "data.one = ctx.signal.v" }
[networks.main.states.second]
wait = { signal = "two" }
[[networks.main.states.second.arcs]]
to = "done"
transform = { lua = "data.two = ctx.signal.v" }
[networks.main.states.done]
end = true
)");
    Engine engine;
    auto wf = engine.load(dir / "wf.toml", history_in(dir / "h.db"));
    auto r = wf.process(Value::object());
    REQUIRE(r.parked);
    auto again = wf.signal(r.run_id, "one", Value::from_json(R"({"v": 1})"));
    REQUIRE(again.parked);
    CHECK(again.signal == "two");
    CHECK(again.final_state == "main/second");
    statenet::History history(dir / "h.db");
    auto parked = history.parked();
    REQUIRE(parked.size() == 1);
    CHECK(parked[0].state == "main/second");
    CHECK(parked[0].status == "waiting");
    CHECK_FALSE(parked[0].deadline_us);
    auto done = wf.signal(r.run_id, "two", Value::from_json(R"({"v": 2})"));
    REQUIRE(done.ok);
    CHECK(done.data["one"] == Value(1));
    CHECK(done.data["two"] == Value(2));
    CHECK(done.path == std::vector<std::string>{"main/first", "main/second", "main/done"});
}

TEST_CASE("wait - a resumed record's '@previous' is the state it came to the wait from") {
    statenet_test::TempDir dir;
    write_file(dir / "wf.toml", R"(
name = "back"
[networks.main.states.draft]
start = true
transform = { lua = "data.drafts = (data.drafts or 0) + 1" }
[[networks.main.states.draft.arcs]]
to = "review"
[networks.main.states.review]
wait = { signal = "verdict" }
[[networks.main.states.review.arcs]]
to = "@previous"
when = { lua = "ctx.signal.redo" }
[[networks.main.states.review.arcs]]
to = "done"
[networks.main.states.done]
end = true
)");
    Engine engine;
    statenet::LoadOptions options;
    options.park_db = dir / "park.db";
    auto wf = engine.load(dir / "wf.toml", options);
    auto r = wf.process(Value::object());
    REQUIRE(r.parked);
    auto again = wf.signal(r.run_id, "verdict", Value::from_json(R"({"redo": true})"));
    REQUIRE(again.parked);
    CHECK(again.data["drafts"] == Value(2));
    CHECK(again.path == std::vector<std::string>{"main/draft", "main/review", "main/draft", "main/review"});
    auto done = wf.signal(r.run_id, "verdict", Value::from_json(R"({"redo": false})"));
    CHECK(done.ok);
    CHECK(done.final_state == "main/done");
}

TEST_CASE("wait - a stream counts parked records apart and lists their run ids") {
    statenet_test::TempDir dir;
    write_file(dir / "in.jsonl", "{\"amount\": 1}\n{\"amount\": 200}\n{\"amount\": \"x\"}\n{\"amount\": 300}\n");
    Engine engine;
    auto wf = engine.load(approval, history_in(dir / "h.db"));
    auto stats = wf.process_stream(statenet::jsonl_source((dir / "in.jsonl").string()),
                                   statenet::jsonl_sink((dir / "out.jsonl").string()));
    CHECK(stats.total == 4);
    CHECK(stats.emitted == 1);
    CHECK(stats.failed == 1);
    CHECK(stats.parked == 2);
    REQUIRE(stats.parked_runs.size() == 2);
    wf.flush_history();
    statenet::History history(dir / "h.db");
    auto parked = history.parked();
    REQUIRE(parked.size() == 2);
    CHECK(parked[0].run_id != parked[1].run_id);
    for (const auto& p : parked) CHECK((p.run_id == stats.parked_runs[0] || p.run_id == stats.parked_runs[1]));
    // The parked record's data is the record as it was when it parked.
    auto r = wf.signal(stats.parked_runs[1], "approval", Value::from_json(R"({"approved": true})"));
    CHECK(r.data["amount"] == Value(300));
    CHECK(r.data["requested"] == Value(true));
}

TEST_CASE("wait - without a park database a record that waits fails, and a stream does not start") {
    Engine engine;
    auto wf = engine.load(approval);
    auto r = wf.process(Value::from_json(R"({"amount": 500})"));
    CHECK_FALSE(r.parked);
    REQUIRE(r.error);
    CHECK(r.error->name == "WaitFailed");
    CHECK(r.error->message.find("--park DB") != std::string::npos);
    CHECK(wf.process(Value::from_json(R"({"amount": 5})")).ok);  // records that never wait still run
    CHECK_THROWS_WITH_AS(wf.process_stream(statenet::jsonl_source("-"), statenet::null_sink()),
                         doctest::Contains("this workflow has wait states"), std::invalid_argument);
    CHECK_THROWS_WITH_AS(wf.signal("x", "approval"), doctest::Contains("has no wait states"), statenet::SignalError);
}

TEST_CASE("wait - load errors: bad wait tables and what a wait state cannot be") {
    const std::string head = "name = \"w\"\n[networks.main.states.a]\nstart = true\n";
    const std::string arc = "[[networks.main.states.a.arcs]]\nto = \"b\"\n[networks.main.states.b]\nend = true\n";
    CHECK(load_errors(head + "wait = { timeout_ms = 5 }\n" + arc) ==
          "wf.toml:4:8: 'wait' needs 'signal', the name of the signal it waits for\n");
    CHECK(load_errors(head + "wait = { signal = \"s\", timeout_ms = -1 }\n" + arc).find("timeout_ms") !=
          std::string::npos);
    CHECK(load_errors(head + "wait = { signal = \"s\", timout_ms = 5 }\n" + arc).find("did you mean 'timeout_ms'") !=
          std::string::npos);
    CHECK(load_errors(head + "end = true\nwait = { signal = \"s\" }\n" + arc)
              .find("state 'main/a' waits for a signal, so it cannot be an end state") != std::string::npos);
    CHECK(load_errors("strategy = \"breadth_first\"\n" + head + "wait = { signal = \"s\" }\n" + arc)
              .find("'wait' states need strategy = \"depth_first\"") != std::string::npos);
    CHECK(load_errors(head + "[[networks.main.states.a.arcs]]\npush = \"sub\"\n[networks.sub.states.s]\nstart = "
                             "true\nwait = { signal = \"s\" }\n[[networks.sub.states.s.arcs]]\nto = \"e\"\n"
                             "[networks.sub.states.e]\nend = true\n")
              .find("'wait' states must be in the main network ('sub/s' is in network 'sub'") != std::string::npos);
}

TEST_CASE("wait - machines refuse wait states with a located load error") {
    Engine engine;
    try {
        statenet::Machines machines(engine, approval, {});
        FAIL("a machine workflow with a wait state loaded");
    } catch (const statenet::LoadError& e) {
        // (its on_error is refused too)
        auto wait = std::find_if(e.diagnostics().begin(), e.diagnostics().end(),
                                 [](const auto& d) { return d.message.find("'wait'") != std::string::npos; });
        REQUIRE(wait != e.diagnostics().end());
        CHECK(wait->line == 18);
        CHECK(wait->message ==
              "'wait' (state 'main/await_approval') is for records: a machine instance waits for "
              "events in every state; use an arc with on = \"approval\"");
    }
}
