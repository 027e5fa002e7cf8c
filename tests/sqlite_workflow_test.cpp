// The sqlite resource inside workflows: ctx.resources, single transactions, savepoints.
#include "test_paths.hpp"

#include <statenet/statenet.hpp>

#include <doctest/doctest.h>

#include <filesystem>
#include <string>
#include <vector>

using statenet::Engine;
using statenet::Result;
using statenet::Value;
using statenet::Workflow;

namespace {

using statenet_test::exec_dir;

/// A fresh database path per test.
std::string fresh_db(const char* name) {
    return statenet_test::fresh_db_path("statenet_sqlite_workflow_test", name).string();
}

std::string workflow(const std::string& db, const char* body, int pool = 2) {
    return "name = \"db\"\n[resources.db]\ntype = \"sqlite\"\npath = \"" + db + "\"\npool = " + std::to_string(pool) +
           "\n" + body;
}

const char* save_body = R"(
[networks.main.states.setup]
start = true
resources = ["db"]
transform = "db.setup"
[[networks.main.states.setup.arcs]]
to = "save"
[networks.main.states.save]
transform = "db.save_then_fail"
[[networks.main.states.save.arcs]]
to = "count"
[networks.main.states.count]
end = true
transform = "db.count"
)";

}  // namespace

TEST_CASE("sqlite - a record's writes commit when it succeeds") {
    Engine engine;
    Workflow wf = engine.load_string(workflow(fresh_db("commit.db"), save_body), exec_dir / "db.toml");
    Result first = wf.process(Value::from_json(R"({"id": 1, "amount": 2.5})"));
    REQUIRE(first.ok);
    CHECK(first.data["rows"].as_int() == 1);
    Result second = wf.process(Value::from_json(R"({"id": 2, "amount": 1})"));
    REQUIRE(second.ok);
    CHECK(second.data["rows"].as_int() == 2);
}

TEST_CASE("sqlite - a Lua error after a write leaves no trace of that write") {
    Engine engine;
    Workflow wf = engine.load_string(workflow(fresh_db("rollback.db"), save_body), exec_dir / "db.toml");
    REQUIRE(wf.process(Value::from_json(R"({"id": 1, "amount": 1})")).ok);
    Result failed = wf.process(Value::from_json(R"({"id": 2, "amount": 1, "fail": true})"));
    REQUIRE(!failed.ok);
    CHECK(failed.error->name == "LuaError");
    Result after = wf.process(Value::from_json(R"({"id": 3, "amount": 1})"));
    REQUIRE(after.ok);
    CHECK(after.data["rows"].as_int() == 2);  // rows 1 and 3: nothing of record 2
}

TEST_CASE("sqlite - a retried step's writes roll back with it") {
    Engine engine;
    Workflow wf = engine.load_string(workflow(fresh_db("retry.db"), R"wf(
[networks.main.states.setup]
start = true
resources = ["db"]
transform = "db.setup"
[[networks.main.states.setup.arcs]]
to = "write"
[networks.main.states.write]
transform = "db.flaky_write"
retry = [{ errors = ["LuaError"], attempts = 2, interval_ms = 0 }]
[[networks.main.states.write.arcs]]
to = "count"
[networks.main.states.count]
end = true
transform = { lua = "data.rows = ctx.resources.db.query('SELECT amount FROM orders')" }
)wf"),
                                     exec_dir / "db.toml");
    Result r = wf.process(Value::from_json(R"({"id": 7})"));
    REQUIRE(r.ok);
    // Only the second attempt's row (amount = ctx.attempt = 1) is there.
    CHECK(r.data["rows"] == Value::from_json(R"([{"amount": 1}])"));
}

TEST_CASE("sqlite - workers share a bounded pool and every record commits") {
    Engine engine;
    Workflow wf = engine.load_string(workflow(fresh_db("pool.db"), save_body, 1), exec_dir / "db.toml");
    std::vector<Value> records;
    for (int i = 1; i <= 200; ++i) records.push_back(Value::object({{"id", i}, {"amount", 1}}));
    auto results = wf.process_batch(records, {.workers = 3});
    for (const auto& r : results) CHECK(r.ok);
    Result last = wf.process(Value::from_json(R"({"id": 1000, "amount": 1})"));
    CHECK(last.data["rows"].as_int() == 201);
}

TEST_CASE("sqlite - bad SQL is a ResourceError that on_error can route") {
    Engine engine;
    Workflow wf = engine.load_string(workflow(fresh_db("bad.db"), R"wf(
[networks.main.states.s]
start = true
resources = ["db"]
transform = { lua = "ctx.resources.db.exec('SELEC nonsense')" }
on_error = [{ errors = ["ResourceError"], to = "failed" }]
[[networks.main.states.s.arcs]]
to = "failed"
[networks.main.states.failed]
end = true
transform = { lua = "data.why = ctx.error.message" }
)wf"),
                                     exec_dir / "db.toml");
    Result r = wf.process(Value::object());
    REQUIRE(r.ok);
    CHECK(r.final_state == "main/failed");
    CHECK(r.data["why"].as_string().find("db: ") == 0);
}

TEST_CASE("sqlite - resource declarations are checked at load") {
    Engine engine;
    auto diagnostics = [&](const std::string& text) {
        try {
            engine.load_string(text, exec_dir / "db.toml");
        } catch (const statenet::LoadError& e) {
            return e.diagnostics();
        }
        return std::vector<statenet::Diagnostic>{};
    };
    auto unknown = diagnostics(workflow(":memory:", R"(
[networks.main.states.s]
start = true
end = true
resources = ["dbb"]
)"));
    REQUIRE(unknown.size() == 1);
    CHECK(unknown[0].line == 10);
    CHECK(unknown[0].message.find("unknown resource 'dbb'") != std::string::npos);
    CHECK(unknown[0].message.find("did you mean 'db'") != std::string::npos);

    auto http = diagnostics(R"(name = "h"
[resources.api]
type = "http"
[networks.main.states.s]
start = true
end = true
)");
    REQUIRE(http.size() == 1);
    CHECK(http[0].line == 2);
    CHECK(http[0].message == "missing required key 'base_url'");
}
