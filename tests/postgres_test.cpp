// The postgres resource against a real throwaway cluster: the Lua API and its types,
// bound parameters, transactions with step savepoints, batches, pool acquire timeouts
// (sqlite too), and located configuration errors.
#include "pg_cluster.hpp"
#include "test_paths.hpp"

#include "resources/pool.hpp"
#include "resources/postgres_resource.hpp"
#include "resources/postgres_values.hpp"
#include "resources/sqlite_resource.hpp"

#include <statenet/statenet.hpp>

#include <doctest/doctest.h>

#include <chrono>
#include <string>
#include <vector>

using statenet::Engine;
using statenet::LoadError;
using statenet::Result;
using statenet::Value;
using statenet::Workflow;
using statenet::detail::PostgresConfig;
using statenet::detail::PostgresConnection;
using statenet_test::pg_cluster;

namespace {

const std::filesystem::path wf_path = statenet_test::exec_dir / "pg.toml";

/// A connection of the test's own, outside any workflow.
PostgresConnection direct() { return PostgresConnection(PostgresConfig{"test", pg_cluster().dsn(), 0}); }

/// A workflow with one postgres resource `pg` on the test cluster.
std::string workflow(const std::string& body, const std::string& resource_extra = "") {
    return "name = \"pg\"\n[resources.pg]\ntype = \"postgres\"\ndsn = \"" + pg_cluster().dsn() + "\"\n" +
           resource_extra + body;
}

std::int64_t count_rows(const std::string& table) {
    return direct().query("SELECT count(*) AS n FROM " + table, {})[0]["n"].as_int();
}

}  // namespace

TEST_CASE("postgres - exec, query, insert and upsert round-trip values with their types") {
    direct().exec(
        "CREATE TABLE types_t (id bigint PRIMARY KEY, name text, price numeric(10,2), ratio float8, ok boolean, "
        "meta jsonb, doc json, note text)",
        {});
    Engine engine;
    Workflow wf = engine.load_string(workflow(R"wf(
[networks.main.states.write]
start = true
end = true
resources = ["pg"]
transform = { lua = """
local pg = ctx.resources.pg
data.inserted = pg.insert("types_t", { id = 1, name = "widget", price = 9.5, ratio = 0.25, ok = true,
                                       meta = { tags = { "a", "b" }, n = 2 }, doc = { x = 1 } })
data.upserted = pg:upsert("types_t", { id = 1, name = "gadget" }, "id")
data.changed = pg:exec("UPDATE types_t SET note = $1 WHERE id = $2", "n1", 1)
data.row = pg.query([[SELECT id, name, price, ratio, ok, meta, doc, note, 12345678901::int8 AS big,
                             NULL::text AS nothing, 2.5::numeric AS half, 3::numeric AS whole
                      FROM types_t WHERE id = $1]], 1)[1]
data.none = #pg.query("SELECT * FROM types_t WHERE id = $1", 99)
""" }
)wf"),
                                     wf_path);
    Result r = wf.process(Value::object());
    REQUIRE_MESSAGE(r.ok, (r.error ? r.error->message : ""));
    CHECK(r.data["inserted"] == Value(1));
    CHECK(r.data["upserted"] == Value(1));
    CHECK(r.data["changed"] == Value(1));
    CHECK(r.data["none"] == Value(0));
    const Value& row = r.data["row"];
    CHECK(row["id"] == Value(1));
    CHECK(row["name"] == Value("gadget"));
    CHECK(row["price"] == Value(9.5));
    CHECK(row["ratio"] == Value(0.25));
    CHECK(row["ok"] == Value(true));
    CHECK(row["meta"] == Value::from_json(R"({"tags": ["a", "b"], "n": 2})"));
    CHECK(row["doc"] == Value::from_json(R"({"x": 1})"));
    CHECK(row["note"] == Value("n1"));
    CHECK(row["big"] == Value(12345678901LL));
    CHECK(row["half"] == Value(2.5));
    CHECK(row["whole"] == Value(3));
    CHECK(row.find("nothing") == nullptr);  // NULL is nil in Lua
}

TEST_CASE("postgres - parameters are bound: an injection attempt is stored as text") {
    direct().exec("CREATE TABLE people (name text)", {});
    Engine engine;
    Workflow wf = engine.load_string(workflow(R"wf(
[networks.main.states.save]
start = true
end = true
resources = ["pg"]
transform = { lua = """
ctx.resources.pg.exec("INSERT INTO people (name) VALUES ($1)", data.name)
data.stored = ctx.resources.pg.query("SELECT name FROM people WHERE name = $1", data.name)[1].name
""" }
)wf"),
                                     wf_path);
    const std::string evil = "x'); DROP TABLE people; --";
    Result r = wf.process(Value::object({{"name", evil}}));
    REQUIRE_MESSAGE(r.ok, (r.error ? r.error->message : ""));
    CHECK(r.data["stored"] == Value(evil));
    CHECK(count_rows("people") == 1);
}

TEST_CASE("postgres - a string of several statements is refused") {
    direct().exec("CREATE TABLE victims (id int)", {});
    Engine engine;
    Workflow wf = engine.load_string(workflow(R"wf(
[networks.main.states.run]
start = true
end = true
resources = ["pg"]
transform = { lua = "ctx.resources.pg.exec('SELECT 1; DROP TABLE victims')" }
)wf"),
                                     wf_path);
    Result r = wf.process(Value::object());
    REQUIRE(!r.ok);
    CHECK(r.error->name == "ResourceError");
    CHECK(r.error->message.find("pg: one statement per call") != std::string::npos);
    CHECK(count_rows("victims") == 0);  // the table is still there
}

TEST_CASE("postgres - a failed step's writes roll back with it, the record's other writes commit") {
    direct().exec("CREATE TABLE attempts (id int, attempt int)", {});
    Engine engine;
    Workflow wf = engine.load_string(workflow(R"wf(
[networks.main.states.write]
start = true
resources = ["pg"]
transform = { lua = """
ctx.resources.pg:exec("INSERT INTO attempts (id, attempt) VALUES ($1, $2)", data.id, ctx.attempt)
if ctx.attempt == 0 then error("first try fails") end
""" }
retry = [{ errors = ["LuaError"], attempts = 2, interval_ms = 0 }]
[[networks.main.states.write.arcs]]
to = "check"
[networks.main.states.check]
end = true
transform = { lua = """
ctx.resources.pg:exec("INSERT INTO attempts (id, attempt) VALUES ($1, 99)", data.id)
if data.fail then error("the record fails") end
""" }
)wf"),
                                     wf_path);
    Result ok = wf.process(Value::object({{"id", 1}}));
    REQUIRE_MESSAGE(ok.ok, (ok.error ? ok.error->message : ""));
    Result failed = wf.process(Value::object({{"id", 2}, {"fail", true}}));
    REQUIRE(!failed.ok);
    CHECK(failed.error->name == "LuaError");
    // Record 1: the second attempt's row and the check's row; record 2: nothing.
    CHECK(direct().query("SELECT id, attempt FROM attempts ORDER BY id, attempt", {}) ==
          Value::from_json(R"([{"id": 1, "attempt": 1}, {"id": 1, "attempt": 99}])"));
}

TEST_CASE("postgres - a statement error caught with pcall fails the record instead of losing its writes") {
    direct().exec("CREATE TABLE caught (id int PRIMARY KEY)", {});
    Engine engine;
    Workflow wf = engine.load_string(workflow(R"wf(
[networks.main.states.write]
start = true
end = true
resources = ["pg"]
transform = { lua = """
ctx.resources.pg.exec("INSERT INTO caught VALUES (1)")
pcall(ctx.resources.pg.exec, "INSERT INTO caught VALUES (1)")
""" }
)wf"),
                                     wf_path);
    Result r = wf.process(Value::object());
    REQUIRE(!r.ok);
    CHECK(r.error->name == "ResourceError");
    CHECK(r.error->message.find("aborted") != std::string::npos);
    CHECK(count_rows("caught") == 0);
}

TEST_CASE("postgres - a server error is one line: message, detail and SQLSTATE") {
    auto pg = direct();
    pg.exec("CREATE TABLE unique_t (id int PRIMARY KEY)", {});
    pg.exec("INSERT INTO unique_t VALUES ($1)", {Value(7)});
    CHECK_THROWS_WITH_AS(pg.exec("INSERT INTO unique_t VALUES ($1)", {Value(7)}),
                         "test: duplicate key value violates unique constraint \"unique_t_pkey\" (Key (id)=(7) already "
                         "exists.) [23505]",
                         std::runtime_error);
}

TEST_CASE("postgres - batch strategy: failing records roll back alone, the batches commit") {
    direct().exec("CREATE TABLE batch_items (id int PRIMARY KEY)", {});
    Engine engine;
    Workflow wf = engine.load_string(workflow(R"wf(
[transaction]
strategy = "batch"
batch_size = 10
[networks.main.states.save]
start = true
end = true
resources = ["pg"]
transform = { lua = """
ctx.resources.pg.insert("batch_items", { id = data.id })
if data.id % 7 == 0 then error("bad record " .. data.id) end
""" }
)wf"),
                                     wf_path);
    std::vector<Value> records;
    for (int id = 1; id <= 25; ++id) records.push_back(Value::object({{"id", id}}));
    auto results = wf.process_batch(records, {.workers = 2});
    int failed = 0;
    std::string why;
    for (const auto& r : results)
        if (!r.ok) {
            ++failed;
            why += r.error->name + ": " + r.error->message + "\n";
        }
    INFO(why);
    CHECK(failed == 3);  // 7, 14, 21
    CHECK(count_rows("batch_items") == 22);
    CHECK(direct().query("SELECT count(*) AS n FROM batch_items WHERE id % 7 = 0", {})[0]["n"] == Value(0));
}

TEST_CASE("postgres - an exhausted pool fails the waiting record with ResourceTimeout; the worker goes on") {
    Engine engine;
    Workflow wf = engine.load_string(workflow(R"wf(
[networks.main.states.hold]
start = true
end = true
resources = ["pg"]
transform = { lua = "local _ = ctx.resources.pg.query('SELECT pg_sleep($1::float8)', data.sleep)" }
)wf",
                                              "pool = 1\nacquire_timeout_ms = 100\n"),
                                     wf_path);
    const Value slow = Value::object({{"sleep", 0.8}});
    auto results = wf.process_batch({slow, slow}, {.workers = 2});
    REQUIRE(results.size() == 2);
    const Result& timed_out = results[0].ok ? results[1] : results[0];
    CHECK((results[0].ok || results[1].ok));
    REQUIRE(!timed_out.ok);
    CHECK(timed_out.error->name == "ResourceTimeout");
    CHECK(timed_out.error->message.find("pg: no connection came free within 100 ms") != std::string::npos);
    CHECK(wf.process(Value::object({{"sleep", 0}})).ok);
}

TEST_CASE("resources - a sqlite pool's acquire times out too, and recovers on release") {
    statenet::detail::ResourceDecl decl;
    decl.name = "db";
    decl.type = "sqlite";
    decl.path = ":memory:";
    decl.pool = 1;
    decl.acquire_timeout_ms = 50;
    statenet::detail::ResourcePools pools({decl});
    auto held = pools.acquire(0);
    const auto start = std::chrono::steady_clock::now();
    CHECK_THROWS_AS(pools.acquire(0), statenet::detail::ResourceTimeout);
    CHECK(std::chrono::steady_clock::now() - start >= std::chrono::milliseconds(50));
    pools.release(0, std::move(held));
    CHECK(pools.acquire(0) != nullptr);
}

TEST_CASE("postgres - a server that cannot be reached is a ResourceError naming the resource") {
    Engine engine;
    Workflow wf = engine.load_string(R"wf(
name = "pg"
[resources.pg]
type = "postgres"
dsn = "host=/nonexistent/statenet port=1 dbname=x user=y password=hunter2"
[networks.main.states.s]
start = true
end = true
resources = ["pg"]
)wf",
                                     wf_path);
    Result r = wf.process(Value::object());
    REQUIRE(!r.ok);
    CHECK(r.error->name == "ResourceError");
    CHECK(r.error->message.starts_with("pg: cannot connect to PostgreSQL"));
    CHECK(r.error->message.find("hunter2") == std::string::npos);
}

TEST_CASE("postgres - bad resource keys and values are located errors") {
    Engine engine;
    try {
        engine.load_string(R"wf(name = "pg"
[resources.pg]
type = "postgres"
dsn = 5
pol = 2
acquire_timeout_ms = 0
statement_timeout_ms = "1s"
path = "x.db"
[resources.other]
type = "postgress"
[networks.main.states.s]
start = true
end = true
)wf",
                           wf_path);
        FAIL("the workflow loaded");
    } catch (const LoadError& e) {
        std::vector<std::string> lines;
        for (const auto& d : e.diagnostics()) lines.push_back(d.str());
        const std::string file = wf_path.string();
        const std::vector<std::string> expected = {
            file + ":4:7: 'dsn' must be a string, not an integer",
            file + ":5:1: unknown key 'pol' in postgres resource 'pg' (did you mean 'pool'?)",
            file + ":6:22: 'acquire_timeout_ms' must be a number from 1 to 2147483647",
            file + ":7:24: 'statement_timeout_ms' must be a number, not a string",
            file + ":8:1: unknown key 'path' in postgres resource 'pg'",
            file + ":10:8: unknown resource type 'postgress' (did you mean 'postgres'?)",
        };
        CHECK(lines == expected);
    }
}

TEST_CASE("postgres - passwords are redacted from conninfo strings shown in messages") {
    using statenet::detail::redact_dsn;
    CHECK(redact_dsn("host=h password=s3cret user=u") == "host=h password=*** user=u");
    CHECK(redact_dsn("password = 'a b\\' c' dbname=x") == "password = *** dbname=x");
    CHECK(redact_dsn("postgresql://app:s3cret@db:5432/app") == "postgresql://app:***@db:5432/app");
}

TEST_CASE("postgres - batch with a pool smaller than the workers: batches hand the connection over") {
    direct().exec("CREATE TABLE handover (id int PRIMARY KEY)", {});
    Engine engine;
    Workflow wf = engine.load_string(workflow(R"wf(
[transaction]
strategy = "batch"
batch_size = 1000
[networks.main.states.save]
start = true
end = true
resources = ["pg"]
transform = { lua = "local _ = ctx.resources.pg.insert('handover', { id = data.id })" }
)wf",
                                              "pool = 1\nacquire_timeout_ms = 5000\n"),
                                     wf_path);
    std::vector<Value> records;
    for (int id = 1; id <= 60; ++id) records.push_back(Value::object({{"id", id}}));
    auto results = wf.process_batch(records, {.workers = 2});
    for (const auto& r : results) CHECK_MESSAGE(r.ok, (r.error ? r.error->message : ""));
    CHECK(count_rows("handover") == 60);
}

TEST_CASE("postgres - a record's sqlite and postgres writes commit and roll back together") {
    direct().exec("CREATE TABLE both_pg (id int)", {});
    const std::string db = statenet_test::fresh_db_path("statenet_postgres_test", "both.db").string();
    Engine engine;
    Workflow wf = engine.load_string(workflow(R"wf(
[resources.lite]
type = "sqlite"
path = ")wf" + db + R"wf("
[networks.main.states.write]
start = true
end = true
resources = ["pg", "lite"]
transform = { lua = """
ctx.resources.lite.exec("CREATE TABLE IF NOT EXISTS both_lite (id INTEGER)")
ctx.resources.lite.insert("both_lite", { id = data.id })
ctx.resources.pg.insert("both_pg", { id = data.id })
if data.fail then error("fails after both writes") end
""" }
)wf"),
                                     wf_path);
    CHECK(wf.process(Value::object({{"id", 1}})).ok);
    CHECK(!wf.process(Value::object({{"id", 2}, {"fail", true}})).ok);
    CHECK(direct().query("SELECT id FROM both_pg", {}) == Value::from_json(R"([{"id": 1}])"));
    statenet::detail::SqliteConnection lite(statenet::detail::SqliteConfig{"lite", db, 1, 1000});
    CHECK(lite.query("SELECT id FROM both_lite", {}) == Value::from_json(R"([{"id": 1}])"));
}

TEST_CASE("postgres - manual strategy: ctx.commit() keeps what came before a failure") {
    direct().exec("CREATE TABLE manual_t (id int)", {});
    Engine engine;
    Workflow wf = engine.load_string(workflow(R"wf(
[transaction]
strategy = "manual"
[networks.main.states.write]
start = true
end = true
resources = ["pg"]
transform = { lua = """
ctx.resources.pg.insert("manual_t", { id = 1 })
ctx.commit()
ctx.resources.pg.insert("manual_t", { id = 2 })
error("after the commit")
""" }
)wf"),
                                     wf_path);
    CHECK(!wf.process(Value::object()).ok);
    CHECK(direct().query("SELECT id FROM manual_t", {}) == Value::from_json(R"([{"id": 1}])"));
}

TEST_CASE("postgres - statement_timeout_ms cancels a long statement") {
    Engine engine;
    Workflow wf = engine.load_string(workflow(R"wf(
[networks.main.states.slow]
start = true
end = true
resources = ["pg"]
transform = { lua = "local _ = ctx.resources.pg.query('SELECT pg_sleep(5)')" }
)wf",
                                              "statement_timeout_ms = 100\n"),
                                     wf_path);
    const auto start = std::chrono::steady_clock::now();
    Result r = wf.process(Value::object());
    REQUIRE(!r.ok);
    CHECK(r.error->name == "ResourceError");
    CHECK(r.error->message.find("statement timeout") != std::string::npos);
    CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(4));
}

TEST_CASE("postgres - pooled connections the server dropped reconnect") {
    Engine engine;
    Workflow wf = engine.load_string(workflow(R"wf(
[networks.main.states.ask]
start = true
end = true
resources = ["pg"]
transform = { lua = "data.pid = ctx.resources.pg.query('SELECT pg_backend_pid() AS pid')[1].pid" }
)wf"),
                                     wf_path);
    Result first = wf.process(Value::object());
    REQUIRE(first.ok);
    direct().query("SELECT pg_terminate_backend($1::int)", {first.data["pid"]});
    Result second = wf.process(Value::object());
    REQUIRE_MESSAGE(second.ok, (second.error ? second.error->message : ""));
    CHECK(second.data["pid"] != first.data["pid"]);
}

TEST_CASE("postgres - reference mode on a postgres resource is a located 'not implemented' error") {
    Engine engine;
    try {
        engine.load_string(R"wf(name = "pg"
data_mode = "reference"
[resources.pg]
type = "postgres"
dsn = "dbname=x"
[reference]
resource = "pg"
table = "accounts"
[networks.main.states.s]
start = true
end = true
)wf",
                           wf_path);
        FAIL("the workflow loaded");
    } catch (const LoadError& e) {
        REQUIRE(e.diagnostics().size() == 1);
        CHECK(e.diagnostics()[0].str() ==
              wf_path.string() +
                  ":7:12: reference mode on a postgres resource ('pg') is not implemented yet: use a sqlite resource");
    }
}

TEST_CASE("postgres - a map state reads its items from a query and writes its results to a table") {
    direct().exec("CREATE TABLE map_items (n bigint)", {});
    direct().exec("INSERT INTO map_items SELECT g FROM generate_series(1, 5) g", {});
    Engine engine;
    Workflow wf = engine.load_string(workflow(R"wf(
[networks.main.states.fan]
start = true
end = true
map = { network = "item", reader = { type = "postgres", resource = "pg", query = "SELECT n FROM map_items ORDER BY n" }, sink = { resource = "pg", table = "map_out" } }
[networks.item.states.s]
start = true
end = true
transform = { lua = "data.squared = data.n * data.n" }
)wf"),
                                     wf_path);
    Result r = wf.process(Value::object());
    REQUIRE_MESSAGE(r.ok, (r.error ? r.error->message : ""));
    CHECK(r.data["results"]["emitted"] == Value(5));
    CHECK(count_rows("map_out") == 5);
    CHECK(direct().query("SELECT sum(squared) AS s FROM map_out", {})[0]["s"].as_int() == 55);
}
