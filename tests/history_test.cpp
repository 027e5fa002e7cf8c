// Execution history (SPEC section 10) through the public API: recording levels, the step tree, queries, retention,
// replay.
#include "history_helpers.hpp"
#include "temp_dir.hpp"
#include "test_paths.hpp"

#include <statenet/statenet.hpp>

#include <SQLiteCpp/SQLiteCpp.h>
#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

using history_test::history_in;
using history_test::load_text;
using statenet::Engine;
using statenet::History;
using statenet::HistoryFilter;
using statenet::HistoryLevel;
using statenet::HistoryRun;
using statenet::HistoryStep;
using statenet::LoadOptions;
using statenet::Value;
using statenet::Workflow;
using statenet_test::history_dir;
using statenet_test::TempDir;

namespace {

std::string step_text(const HistoryStep& s) {
    std::string text = std::to_string(s.seq) + " " + s.qualified() + " via " + s.via;
    text += " parent " + (s.parent ? std::to_string(*s.parent) : std::string("-"));
    text += " attempt " + std::to_string(s.attempt) + " depth " + std::to_string(s.depth) + " " + s.status;
    if (!s.arc.empty()) text += " -> " + s.arc;
    if (s.error) text += " " + s.error->name;
    return text;
}

std::vector<std::string> tree(const History& history, const HistoryRun& run) {
    std::vector<std::string> lines;
    for (const auto& s : history.steps(run)) lines.push_back(step_text(s));
    return lines;
}

const char* linear = R"toml(
name = "linear"
[networks.main.states.a]
start = true
transform = { lua = "data.seen = (data.seen or 0) + 1" }
[[networks.main.states.a.arcs]]
to = "ok"
when = { lua = "data.amount >= 0" }
[networks.main.states.a.validate]
lua = "data.amount ~= 13 or error({ name = 'Unlucky', message = 'thirteen' })"
[networks.main.states.ok]
end = true
)toml";

}  // namespace

TEST_CASE("history - step tree across a push arc, a retry and an on_error route") {
    TempDir dir("statenet_history_test");
    Engine engine;
    Workflow wf = engine.load(history_dir / "tree.toml", history_in(dir / "h.db"));
    auto failing = wf.process(Value::from_json(R"({"id": 1, "amount": -1})"));
    REQUIRE(failing.ok);
    auto passing = wf.process(Value::from_json(R"({"id": 2, "amount": 5})"));
    REQUIRE(passing.ok);
    wf.flush_history();

    History history(dir / "h.db");
    auto runs = history.runs();
    REQUIRE(runs.size() == 2);
    CHECK(runs[0].run_id == failing.run_id);
    CHECK(runs[0].workflow == "tree");
    CHECK(runs[0].version == "2");
    CHECK(runs[0].scripts_hash.size() == 16);
    CHECK(runs[0].level == HistoryLevel::full);
    CHECK(runs[0].final_state == "main/done");
    CHECK(tree(history, runs[0]) ==
          std::vector<std::string>{
              "1 main/intake via start parent - attempt 0 depth 0 ok -> check/flaky",
              "2 check/flaky via push parent 1 attempt 0 depth 1 failed -> check/flaky Flaky",
              "3 check/flaky via retry parent 2 attempt 1 depth 1 ok -> check/strict",
              "4 check/strict via arc parent 3 attempt 0 depth 1 failed -> check/rejected ValidationFailed",
              "5 check/rejected via on_error parent 4 attempt 0 depth 1 end",
              "6 main/done via return parent 1 attempt 0 depth 0 end",
          });
    auto steps = history.steps(runs[0]);
    CHECK(steps[3].error->message == "amount must not be negative");
    CHECK(steps[3].error->state == "check/strict");
    // Level full: the input, the output and what each step changed.
    CHECK(*runs[0].input == Value::from_json(R"({"id": 1, "amount": -1})"));
    CHECK(*runs[0].output == failing.data);
    CHECK(*steps[0].changes == Value::from_json(R"({"set": {"stamped": true}})"));
    CHECK(*steps[2].changes == Value::from_json(R"({"set": {"tries": 2}})"));
    CHECK(*steps[4].changes == Value::from_json(R"({"set": {"rejected": "ValidationFailed"}})"));
    CHECK(!steps[1].changes);  // a failed step changed nothing

    // The run drawn over the workflow's graph.
    const std::string mermaid = wf.graph(statenet::GraphFormat::mermaid, steps);
    CHECK(mermaid.find("  check_flaky ==>|\"3 retry\"| check_flaky\n") != std::string::npos);
    CHECK(mermaid.find("  class check_strict run_failed\n") != std::string::npos);
    CHECK(mermaid.find("  class check_accepted") == std::string::npos);  // not visited
    CHECK(wf.graph(statenet::GraphFormat::dot, steps)
              .find("\"check/rejected\" [style=\"rounded,filled\", fillcolor=\"#ddffdd\"];") != std::string::npos);

    CHECK(tree(history, runs[1]).back() == "6 main/done via return parent 1 attempt 0 depth 0 end");
    CHECK(tree(history, runs[1])[4] == "5 check/accepted via arc parent 4 attempt 0 depth 1 end");
}

TEST_CASE("history - breadth-first branches share the splitting step as parent") {
    TempDir dir("statenet_history_test");
    Engine engine;
    Workflow wf = load_text(engine, R"(
name = "fork"
strategy = "breadth_first"
[networks.main.states.split]
start = true
[[networks.main.states.split.arcs]]
to = "left"
[[networks.main.states.split.arcs]]
to = "right"
[networks.main.states.left]
end = true
[networks.main.states.right]
end = true
)",
                            history_in(dir / "h.db"));
    REQUIRE(wf.process(Value::object()).ok);
    wf.flush_history();
    History history(dir / "h.db");
    auto runs = history.runs();
    REQUIRE(runs.size() == 1);
    CHECK(runs[0].level == HistoryLevel::steps);  // --history alone records steps
    CHECK(tree(history, runs[0]) == std::vector<std::string>{
                                        "1 main/split via start parent - attempt 0 depth 0 ok -> main/left,main/right",
                                        "2 main/left via arc parent 1 attempt 0 depth 0 end",
                                        "3 main/right via arc parent 1 attempt 0 depth 0 end",
                                    });
    CHECK(!history.steps(runs[0])[0].changes);  // level steps keeps no data
    CHECK(!runs[0].input);
}

TEST_CASE("history - level off opens nothing and writes nothing") {
    TempDir dir("statenet_history_test");
    Engine engine;
    const std::string toml =
        std::string(linear) + "[history]\nlevel = \"off\"\ndb = \"" + (dir / "h.db").string() + "\"\n";
    Workflow wf = load_text(engine, toml, {});
    CHECK(wf.process(Value::from_json(R"({"amount": 1})")).ok);
    wf.flush_history();
    CHECK(!std::filesystem::exists(dir / "h.db"));

    Workflow forced_off = load_text(engine, linear, history_in(dir / "h.db", HistoryLevel::off));
    CHECK(forced_off.process(Value::from_json(R"({"amount": 1})")).ok);
    forced_off.flush_history();
    CHECK(!std::filesystem::exists(dir / "h.db"));
}

TEST_CASE("history - level runs keeps one row per run and no steps") {
    TempDir dir("statenet_history_test");
    Engine engine;
    Workflow wf = load_text(engine, linear, history_in(dir / "h.db", HistoryLevel::runs));
    CHECK(wf.process(Value::from_json(R"({"amount": 1})")).ok);
    auto failed = wf.process(Value::from_json(R"({"amount": 13})"));
    CHECK(!failed.ok);
    wf.flush_history();
    History history(dir / "h.db");
    auto runs = history.runs();
    REQUIRE(runs.size() == 2);
    CHECK(runs[0].ok);
    CHECK(runs[0].final_state == "main/ok");
    CHECK(runs[0].transitions == 1);
    CHECK(!runs[1].ok);
    REQUIRE(runs[1].error);
    CHECK(runs[1].error->name == "Unlucky");
    CHECK(runs[1].error->message == "thirteen");
    CHECK(history.steps(runs[0]).empty());
    CHECK(history.steps(runs[1]).empty());
}

TEST_CASE("history - batch workers all record through the one writer, with input positions") {
    TempDir dir("statenet_history_test");
    Engine engine;
    Workflow wf = load_text(engine, linear, history_in(dir / "h.db", HistoryLevel::steps));
    std::vector<Value> records;
    for (int i = 0; i < 300; ++i) records.push_back(Value::object({{"amount", i}}));
    auto results = wf.process_batch(records, {.workers = 3});
    wf.flush_history();
    History history(dir / "h.db");
    auto runs = history.runs();
    REQUIRE(runs.size() == 300);
    std::vector<bool> seen(300, false);
    for (const auto& run : runs) {
        REQUIRE(run.position);
        seen.at(static_cast<std::size_t>(*run.position)) = true;
    }
    CHECK(std::find(seen.begin(), seen.end(), false) == seen.end());
    CHECK(history.stats().states.size() == 2);
}

TEST_CASE("history - queries filter by status, state, workflow and time, and find runs by id prefix") {
    TempDir dir("statenet_history_test");
    Engine engine;
    Workflow wf = load_text(engine, linear, history_in(dir / "h.db"));
    auto ok = wf.process(Value::from_json(R"({"amount": 1})"));
    auto bad = wf.process(Value::from_json(R"({"amount": 13})"));
    auto negative = wf.process(Value::from_json(R"({"amount": -1})"));
    wf.flush_history();
    History history(dir / "h.db");

    HistoryFilter failed;
    failed.ok = false;
    CHECK(history.runs(failed).size() == 2);
    // A failed run is stored with the state it failed in, as the Result reports it.
    REQUIRE(!bad.ok);
    REQUIRE(!bad.final_state.empty());
    CHECK(history.run(bad.run_id).final_state == bad.final_state);
    CHECK(history.run(bad.run_id).error->state == bad.final_state);
    HistoryFilter in_ok;
    in_ok.state = "ok";
    REQUIRE(history.runs(in_ok).size() == 1);
    CHECK(history.runs(in_ok)[0].run_id == ok.run_id);
    in_ok.state = "main/ok";
    CHECK(history.runs(in_ok).size() == 1);
    HistoryFilter other;
    other.workflow = "nope";
    CHECK(history.runs(other).empty());
    HistoryFilter later;
    later.since_us = statenet::history_now_us() + 60'000'000;
    CHECK(history.runs(later).empty());
    HistoryFilter newest;
    newest.limit = 2;
    REQUIRE(history.runs(newest).size() == 2);
    CHECK(history.runs(newest)[1].run_id == negative.run_id);

    CHECK(history.run(bad.run_id.substr(0, 13)).run_id == bad.run_id);
    CHECK(history.run("#1").run_id == ok.run_id);
    CHECK_THROWS_AS(history.run("#99"), statenet::HistoryError);
    CHECK_THROWS_WITH_AS(history.run("zzz"), doctest::Contains("no run 'zzz'"), statenet::HistoryError);
    CHECK_THROWS_WITH_AS(history.run(""), doctest::Contains("no run"), statenet::HistoryError);

    auto stats = history.stats();
    CHECK(stats.runs == 3);
    CHECK(stats.ok == 1);
    CHECK(stats.failed == 2);
    REQUIRE(stats.states.size() == 2);
    CHECK(stats.states[0].state == "main/a");
    CHECK(stats.states[0].entries == 3);
    CHECK(stats.states[0].failures == 2);
    CHECK(stats.states[0].p95_us >= stats.states[0].p50_us);
    REQUIRE(stats.errors.size() == 2);
    for (const auto& e : stats.errors) {
        CHECK((e.name == "Unlucky" || e.name == "NoTransition"));
        CHECK(e.steps == 1);
        CHECK(e.runs == 1);
    }
}

TEST_CASE("history - prune by count, age and time; max_runs applies when the writer opens") {
    TempDir dir("statenet_history_test");
    Engine engine;
    std::vector<std::string> ids;
    {
        Workflow wf = load_text(engine, linear, history_in(dir / "h.db"));
        for (int i = 0; i < 10; ++i) ids.push_back(wf.process(Value::object({{"amount", i}})).run_id);
        wf.flush_history();
    }
    History history(dir / "h.db");
    CHECK(history.prune({.max_runs = 7}) == 3);
    auto runs = history.runs();
    REQUIRE(runs.size() == 7);
    CHECK(runs.front().run_id == ids[3]);  // the oldest went
    CHECK(!runs.front().position);         // process() gave none
    CHECK(history.prune({.max_age_seconds = 3600}) == 0);
    CHECK(history.runs().size() == 7);

    // The workflow's own retention prunes when its writer opens the database.
    const std::string toml = std::string(linear) + "[history]\nlevel = \"runs\"\nmax_runs = 2\n";
    {
        Workflow wf = load_text(engine, toml, history_in(dir / "h.db"));
        CHECK(history.runs().size() == 2);
        wf.process(Value::object({{"amount", 1}}));
        wf.flush_history();
    }
    CHECK(history.runs().size() == 3);

    CHECK(history.prune({.before_us = statenet::history_now_us() + 1'000'000}) == 3);
    CHECK(history.runs().empty());
    CHECK(history.steps(runs.front()).empty());
}

TEST_CASE("history - replay reports a changed transform at its first diverging step") {
    TempDir dir("statenet_history_test");
    const std::string before = R"(
name = "pricing"
[networks.main.states.intake]
start = true
transform = "hist.stamp"
[[networks.main.states.intake.arcs]]
to = "price"
[networks.main.states.price]
transform = { lua = "data.total = data.amount * 1.2" }
[[networks.main.states.price.arcs]]
to = "done"
[networks.main.states.done]
end = true
)";
    std::string after = before;
    after.replace(after.find("1.2"), 3, "1.3");
    Engine engine;
    {
        Workflow wf = load_text(engine, before, history_in(dir / "h.db", HistoryLevel::full));
        wf.process(Value::from_json(R"({"amount": 10})"));
        wf.process(Value::from_json(R"({"amount": 0})"));
        wf.flush_history();
    }
    History history(dir / "h.db");
    const auto recorded = history.runs();
    REQUIRE(recorded.size() == 2);

    // The same workflow replays without divergence.
    auto same = statenet::replay(load_text(engine, before, {}), history);
    CHECK(same.replayed == 2);
    CHECK(same.divergences.empty());

    auto report = statenet::replay(load_text(engine, after, {}), history);
    CHECK(report.replayed == 2);
    REQUIRE(report.divergences.size() == 1);  // amount 0 costs 0 either way
    const auto& d = report.divergences[0];
    CHECK(d.recorded.run_id == recorded[0].run_id);
    CHECK(d.differences == std::vector<std::string>{"output"});
    CHECK(d.output["total"].as_number() == doctest::Approx(13.0));
    CHECK(d.step_index == 2);
    REQUIRE(d.recorded_step);
    REQUIRE(d.replayed_step);
    CHECK(d.recorded_step->qualified() == "main/price");
    CHECK(d.recorded_step->changes->to_json() == R"({"set":{"total":12}})");
    CHECK(d.replayed_step->changes->to_json() == R"({"set":{"total":13}})");

    // Replay writes nothing to the history it reads, and runs below level full are skipped.
    CHECK(history.runs().size() == 2);
    {
        Workflow wf = load_text(engine, after, history_in(dir / "h.db", HistoryLevel::runs));
        wf.process(Value::from_json(R"({"amount": 10})"));
        wf.flush_history();
    }
    auto mixed = statenet::replay(load_text(engine, after, {}), history);
    CHECK(mixed.replayed == 2);
    CHECK(mixed.skipped.size() == 1);
    // The changed workflow recorded another scripts hash.
    CHECK(history.runs().back().scripts_hash != recorded[0].scripts_hash);
}

TEST_CASE("history - bad [history] settings and databases are load errors") {
    TempDir dir("statenet_history_test");
    Engine engine;
    const auto errors = [&](const std::string& history_table, const LoadOptions& options = {}) {
        try {
            load_text(engine, std::string(linear) + history_table, options);
        } catch (const statenet::LoadError& e) {
            std::string all;
            for (const auto& d : e.diagnostics()) all += d.str() + "\n";
            return all;
        }
        return std::string();
    };
    CHECK(errors("[history]\nlevel = \"verbose\"\n")
              .find("unknown history level 'verbose' (expected off, runs, steps or full)") != std::string::npos);
    CHECK(errors("[history]\nlevel = \"stpes\"\n").find("did you mean 'steps'") != std::string::npos);
    CHECK(errors("[history]\ndurability = \"paranoid\"\n").find("unknown history durability 'paranoid'") !=
          std::string::npos);
    CHECK(errors("[history]\nmax_runs = 0\n").find("'max_runs' must be a positive integer") != std::string::npos);
    CHECK(errors("[history]\nmax_age = \"soon\"\n").find("'max_age' must be a duration") != std::string::npos);
    CHECK(errors("[history]\nlevels = \"runs\"\n").find("unknown key 'levels' in [history]") != std::string::npos);
    CHECK(errors("[history]\nlevel = \"runs\"\nmax_age = \"30d\"\ndurability = \"full\"\n", history_in(dir / "ok.db"))
              .empty());

    std::ofstream(dir / "not-history.db") << "just text";
    const std::string message = errors("", history_in(dir / "not-history.db"));
    CHECK(message.find("not-history.db") != std::string::npos);
    CHECK(message.find("inline.toml: ") != std::string::npos);
    CHECK_THROWS_WITH_AS(History(dir / "missing.db"), doctest::Contains("does not exist"), statenet::HistoryError);
    CHECK_THROWS_AS(History(dir / "not-history.db"), statenet::HistoryError);

    // A history database of an older schema (version 1 kept step names as text) is
    // refused with the reason, by the writer and by queries.
    {
        SQLite::Database old((dir / "v1.db").string(), SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
        old.exec("CREATE TABLE runs (id INTEGER PRIMARY KEY); PRAGMA application_id=1397639241; PRAGMA user_version=1");
    }
    CHECK_THROWS_WITH_AS(History(dir / "v1.db"),
                         doctest::Contains("has schema version 1; this statenet reads version 5"),
                         statenet::HistoryError);
    CHECK(errors("", history_in(dir / "v1.db")).find("schema version 1") != std::string::npos);
}

TEST_CASE("history - time and age texts") {
    CHECK(statenet::parse_history_age("90s") == 90);
    CHECK(statenet::parse_history_age("15m") == 900);
    CHECK(statenet::parse_history_age("2h") == 7200);
    CHECK(statenet::parse_history_age("7d") == 604800);
    CHECK(statenet::parse_history_age("120") == 120);
    CHECK(!statenet::parse_history_age("soon"));
    CHECK(!statenet::parse_history_age("-5m"));
    const std::int64_t t = 1795508100000000;  // 2026-11-24T08:15:00Z
    CHECK(statenet::format_history_time(t + 123000) == "2026-11-24T08:15:00.123Z");
    CHECK(statenet::parse_history_time("2026-11-24T08:15:00.123Z", 0) == t + 123000);
    CHECK(statenet::parse_history_time("2026-11-24T08:15:00", 0) == t);
    CHECK(statenet::parse_history_time("2026-11-24", 0) == t - (8 * 3600 + 15 * 60) * 1000000LL);
    CHECK(statenet::parse_history_time("2h", t) == t - 7200 * 1000000LL);
    CHECK(!statenet::parse_history_time("120", t));
    CHECK(!statenet::parse_history_time("2026-13-01", t));
    CHECK(!statenet::parse_history_time("yesterday", t));
}

TEST_CASE("history - a schema-2 database is upgraded in place and keeps its steps") {
    TempDir dir;
    const auto path = dir / "v2.db";
    {
        // Schema 2 kept one step_data row per step, by number.
        SQLite::Database old(path.string(), SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
        old.exec(R"sql(
CREATE TABLE workflows (id INTEGER PRIMARY KEY, name TEXT NOT NULL, version TEXT NOT NULL, file TEXT NOT NULL,
  scripts_hash TEXT NOT NULL, UNIQUE (name, version, file, scripts_hash));
CREATE TABLE states (id INTEGER PRIMARY KEY, workflow INTEGER NOT NULL, number INTEGER NOT NULL,
  network TEXT NOT NULL, name TEXT NOT NULL, qualified TEXT NOT NULL, UNIQUE (workflow, number));
CREATE TABLE runs (id INTEGER PRIMARY KEY, run_id TEXT NOT NULL, workflow INTEGER NOT NULL, position INTEGER,
  ok INTEGER NOT NULL, final_state TEXT NOT NULL, error_name TEXT, error_message TEXT, error_state TEXT,
  started_us INTEGER NOT NULL, duration_ns INTEGER NOT NULL, transitions INTEGER NOT NULL, level TEXT NOT NULL,
  input TEXT, output TEXT);
CREATE TABLE step_data (id INTEGER PRIMARY KEY, parent INTEGER, via INTEGER NOT NULL, state INTEGER NOT NULL,
  arc INTEGER, arcs TEXT, attempt INTEGER NOT NULL, depth INTEGER NOT NULL, status INTEGER NOT NULL,
  duration_ns INTEGER NOT NULL, error_name TEXT, error_message TEXT, error_state TEXT, changes TEXT);
CREATE VIEW steps AS SELECT d.id AS id FROM step_data d;
CREATE VIEW step_rows AS SELECT id >> 20 AS run, id & 1048575 AS seq, * FROM steps;
INSERT INTO workflows VALUES (1, 'wf', '1', '/wf.toml', 'abc');
INSERT INTO states VALUES (1, 1, 0, 'main', 'check', 'main/check'), (2, 1, 1, 'main', 'done', 'main/done');
INSERT INTO runs VALUES (1, '00000000-0000-4000-8000-000000000001', 1, 0, 1, 'main/done', NULL, NULL, NULL,
  1700000000000000, 5000, 1, 'full', '{"id":1}', '{"id":1,"x":2}');
INSERT INTO runs VALUES (2, '00000000-0000-4000-8000-000000000002', 1, 1, 1, 'main/done', NULL, NULL, NULL,
  1700000000000001, 4000, 1, 'runs', NULL, NULL);
INSERT INTO step_data VALUES (1048577, NULL, 0, 1, 2, NULL, 0, 0, 0, 1000, 'Oops', 'said "no"', 'main/check', NULL);
INSERT INTO step_data VALUES (1048578, 1, 4, 1, 2, NULL, 1, 0, 0, 900, NULL, NULL, NULL, '{"x":2}');
INSERT INTO step_data VALUES (1048579, 2, 1, 2, NULL, NULL, 0, 0, 1, 800, NULL, NULL, NULL, NULL);
PRAGMA application_id=1397639241; PRAGMA user_version=2;)sql");
    }
    History history(path);
    const auto runs = history.runs({});
    REQUIRE(runs.size() == 2);
    const auto steps = history.steps(runs[0]);
    REQUIRE(steps.size() == 3);
    CHECK(steps[0].seq == 1);
    CHECK(!steps[0].parent);
    CHECK(steps[0].state == "check");
    CHECK(steps[0].arc == "main/done");
    REQUIRE(steps[0].error);
    CHECK(steps[0].error->message == "said \"no\"");
    CHECK(steps[1].via == "retry");
    CHECK(steps[1].parent == 1);
    CHECK(steps[1].attempt == 1);
    REQUIRE(steps[1].changes);
    CHECK(steps[1].changes->to_json() == R"({"x":2})");
    CHECK(steps[2].state == "done");
    CHECK(steps[2].status == "end");
    CHECK(steps[2].duration_ns == 800);
    CHECK(history.steps(runs[1]).empty());
    SQLite::Database check(path.string());
    CHECK(check.execAndGet("PRAGMA user_version").getInt() == 5);  // 2 -> 3 -> 4 -> 5
    CHECK(check.execAndGet("SELECT count(*) FROM sqlite_master WHERE name = 'step_data'").getInt() == 0);
    // 4 -> 5 followed: the table parked records wait in.
    CHECK(check.tableExists("parked"));
    CHECK(history.parked().empty());
}

TEST_CASE("history - a condition's reason is recorded with the arc it chose") {
    TempDir dir("statenet_history_reason");
    Engine engine;
    const char* toml = R"toml(
name = "reasons"
[networks.main.states.a]
start = true
[[networks.main.states.a.arcs]]
to = "big"
when = { lua = "if data.amount > 100 then return true, 'amount ' .. data.amount .. ' over 100' end return false, 'small'" }
[[networks.main.states.a.arcs]]
to = "small"
when = { lua = "if data.amount == 7 then return true, 7.5 elseif data.amount == 8 then return true, {} end return true" }
[networks.main.states.big]
end = true
[networks.main.states.small]
end = true
)toml";
    Workflow wf = load_text(engine, toml, history_in(dir / "h.db", HistoryLevel::steps));
    REQUIRE(wf.process(Value::from_json(R"({"amount": 250})")).final_state == "main/big");
    REQUIRE(wf.process(Value::from_json(R"({"amount": 5})")).final_state == "main/small");
    REQUIRE(wf.process(Value::from_json(R"({"amount": 7})")).final_state == "main/small");
    REQUIRE(wf.process(Value::from_json(R"({"amount": 8})")).final_state == "main/small");
    wf.flush_history();
    History history(dir / "h.db");
    auto runs = history.runs();
    REQUIRE(runs.size() == 4);
    // A number is kept as text; anything else (a table here) is no reason.
    CHECK(history.steps(runs[2])[0].reason == "7.5");
    CHECK(history.steps(runs[3])[0].reason.empty());
    auto big = history.steps(runs[0]);
    REQUIRE(big.size() == 2);
    CHECK(big[0].arc == "main/big");
    CHECK(big[0].reason == "amount 250 over 100");
    CHECK(big[0].to_value()["reason"] == Value("amount 250 over 100"));
    // A passing condition without a second value records none; nor does the end state.
    auto small = history.steps(runs[1]);
    REQUIRE(small.size() == 2);
    CHECK(small[0].arc == "main/small");
    CHECK(small[0].reason.empty());
    CHECK(small[1].reason.empty());
}
