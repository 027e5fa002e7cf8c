// Execution history of resource calls and token usage: what a run stores (only when it
// called a resource), the query API and stats, and the schema 3 -> 4 upgrade.
#include "servers/fake_api.hpp"
#include "temp_dir.hpp"

#include <statenet/statenet.hpp>

#include <SQLiteCpp/SQLiteCpp.h>
#include <doctest/doctest.h>

#include <cstdlib>
#include <string>

using statenet::Engine;
using statenet::History;
using statenet::LoadOptions;
using statenet::Value;
using statenet::Workflow;
using statenet_test::TempDir;

namespace {

statenet_test::FakeApi& llm_server() {
    setenv("no_proxy", "127.0.0.1", 1);
    static statenet_test::FakeApi server;
    static const int port = server.start();
    (void)port;
    return server;
}

// Records with `skip` make no call; the others write to db twice and, with `ask`, chat.
std::string workflow(const TempDir& dir) {
    return "name = \"usage\"\n[history]\nlevel = \"runs\"\ndb = \"" + (dir / "h.db").string() +
           "\"\n[resources.db]\ntype = \"sqlite\"\npath = \"" + (dir / "d.db").string() +
           "\"\n[resources.llm]\ntype = \"llm\"\nbase_url = \"" + llm_server().base_url() +
           "\"\nmodel = \"m\"\n[networks.main.states.go]\nstart = true\nend = true\nresources = [\"db\", "
           "\"llm\"]\ntransform = { lua = '''\nif data.skip then return end\n"
           "ctx.resources.db.exec(\"CREATE TABLE IF NOT EXISTS t (x)\")\n"
           "ctx.resources.db.exec(\"INSERT INTO t VALUES (?)\", 1)\n"
           "if data.ask then data.answer = ctx.resources.llm:chat(data.ask).text end\n''' }\n";
}

}  // namespace

TEST_CASE("history - a run keeps its resource calls and token usage; a run without calls stores none") {
    TempDir dir("statenet_history_usage");
    Engine engine;
    {
        Workflow wf = engine.load_string(workflow(dir), dir / "usage.toml");
        REQUIRE(wf.process(Value::from_json(R"({"skip": true})")).ok);
        auto db_only = wf.process(Value::from_json(R"({"n": 1})"));
        REQUIRE(db_only.ok);
        REQUIRE(db_only.resources.size() == 1);
        CHECK(db_only.resources[0].name == "db");
        CHECK(db_only.resources[0].calls == 2);
        auto asked = wf.process(Value::from_json(R"({"ask": "hello there world"})"));
        REQUIRE_MESSAGE(asked.ok, (asked.error ? asked.error->message : ""));
        CHECK(asked.usage.prompt_tokens == 3);
        CHECK(asked.usage.completion_tokens == 4);
        wf.flush_history();
    }
    History history(dir / "h.db");
    const auto runs = history.runs();
    REQUIRE(runs.size() == 3);
    CHECK(runs[0].resources.empty());
    CHECK(runs[0].usage.empty());
    REQUIRE(runs[1].resources.size() == 1);
    CHECK(runs[1].resources[0].name == "db");
    CHECK(runs[1].resources[0].type == "sqlite");
    CHECK(runs[1].resources[0].calls == 2);
    CHECK(runs[1].resources[0].errors == 0);
    CHECK(runs[1].resources[0].latency_ms > 0);
    CHECK(runs[1].resources[0].health.empty());  // ok is not stored
    CHECK(runs[1].usage.empty());
    REQUIRE(runs[2].resources.size() == 2);
    CHECK(runs[2].resources[1].name == "llm");
    CHECK(runs[2].resources[1].calls == 1);
    CHECK(runs[2].usage.prompt_tokens == 3);
    CHECK(runs[2].usage.completion_tokens == 4);
    CHECK(runs[2].to_value()["usage"].to_json() == R"({"prompt_tokens":3,"completion_tokens":4})");
    CHECK(runs[2].to_value()["resources"]["db"]["calls"].as_int() == 2);

    // The plain runs pay nothing: a run without calls has NULL columns.
    SQLite::Database raw((dir / "h.db").string());
    CHECK(raw.execAndGet("SELECT count(*) FROM runs WHERE resources IS NULL AND prompt_tokens IS NULL").getInt() == 1);

    const auto stats = history.stats();
    CHECK(stats.usage.prompt_tokens == 3);
    REQUIRE(stats.resources.size() == 2);
    CHECK(stats.resources[0].name == "db");
    CHECK(stats.resources[0].calls == 4);
    CHECK(stats.resources[1].calls == 1);
}

TEST_CASE("history - a failing call counts as an error, and a degraded resource's health is kept") {
    TempDir dir("statenet_history_usage_err");
    Engine engine;
    Workflow wf = engine.load_string(R"toml(
name = "errs"
[resources.db]
type = "sqlite"
path = "d.db"
[networks.main.states.go]
start = true
end = true
resources = ["db"]
transform = { lua = "pcall(ctx.resources.db.exec, 'SELECT * FROM missing'); ctx.resources.db.exec('SELECT 1')" }
[networks.main.states.bad]
end = true
)toml",
                                     dir / "errs.toml");
    auto r = wf.process(Value::object());
    REQUIRE(r.ok);
    REQUIRE(r.resources.size() == 1);
    CHECK(r.resources[0].calls == 2);
    CHECK(r.resources[0].errors == 1);
    CHECK(r.resources[0].health == "ok");  // the last call worked
    auto stats = wf.resource_stats();
    REQUIRE(stats.size() == 1);
    CHECK(stats[0].type == "sqlite");
    CHECK(stats[0].calls == 2);
    CHECK(stats[0].errors == 1);
    CHECK(stats[0].health == "ok");
}

TEST_CASE("history - a schema-3 database is upgraded to 4 and keeps its runs") {
    TempDir dir("statenet_history_v3");
    const auto path = dir / "v3.db";
    {
        SQLite::Database old(path.string(), SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
        old.exec(R"sql(
CREATE TABLE workflows (id INTEGER PRIMARY KEY, name TEXT NOT NULL, version TEXT NOT NULL, file TEXT NOT NULL,
  scripts_hash TEXT NOT NULL, UNIQUE (name, version, file, scripts_hash));
CREATE TABLE states (id INTEGER PRIMARY KEY, workflow INTEGER NOT NULL, number INTEGER NOT NULL,
  network TEXT NOT NULL, name TEXT NOT NULL, qualified TEXT NOT NULL, UNIQUE (workflow, number));
CREATE TABLE runs (id INTEGER PRIMARY KEY, run_id TEXT NOT NULL, workflow INTEGER NOT NULL, position INTEGER,
  ok INTEGER NOT NULL, final_state TEXT NOT NULL, error_name TEXT, error_message TEXT, error_state TEXT,
  started_us INTEGER NOT NULL, duration_ns INTEGER NOT NULL, transitions INTEGER NOT NULL, level TEXT NOT NULL,
  input TEXT, output TEXT, steps TEXT);
INSERT INTO workflows VALUES (1, 'wf', '1', '/wf.toml', 'abc');
INSERT INTO states VALUES (1, 1, 0, 'main', 'go', 'main/go');
INSERT INTO runs VALUES (1, '00000000-0000-4000-8000-000000000001', 1, 0, 1, 'main/go', NULL, NULL, NULL,
  1700000000000000, 5000, 0, 'steps', NULL, NULL, '[[0,0,1,null,0,0,1,5000]]');
PRAGMA application_id=1397639241; PRAGMA user_version=3;)sql");
    }
    {
        History history(path);
        const auto runs = history.runs();
        REQUIRE(runs.size() == 1);
        CHECK(runs[0].usage.empty());
        CHECK(runs[0].resources.empty());
    }
    {
        SQLite::Database check(path.string());
        CHECK(check.execAndGet("PRAGMA user_version").getInt() == 4);
    }
    // A writer appends runs with calls to the upgraded database.
    Engine engine;
    LoadOptions options;
    options.history_db = path;
    options.history_level = statenet::HistoryLevel::runs;
    {
        Workflow wf = engine.load_string(R"toml(
name = "after"
[resources.db]
type = "sqlite"
path = "d.db"
[networks.main.states.go]
start = true
end = true
resources = ["db"]
transform = { lua = "local _ = ctx.resources.db.exec('SELECT 1')" }
)toml",
                                         dir / "after.toml", options);
        auto r = wf.process(Value::object());
        REQUIRE_MESSAGE(r.ok, (r.error ? r.error->message : ""));
        wf.flush_history();
    }
    History history(path);
    const auto runs = history.runs();
    REQUIRE(runs.size() == 2);
    REQUIRE(runs[1].resources.size() == 1);
    CHECK(runs[1].resources[0].calls == 1);
}
