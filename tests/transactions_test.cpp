// Transaction strategies (SPEC section 7): single, batch with per-record savepoints, manual.
#include "resources/sqlite_resource.hpp"
#include "test_paths.hpp"

#include <statenet/statenet.hpp>

#include <doctest/doctest.h>

#include <filesystem>
#include <mutex>
#include <string>
#include <vector>

using statenet::Engine;
using statenet::EngineOptions;
using statenet::Result;
using statenet::Value;
using statenet::Workflow;
using statenet::detail::SqliteConfig;
using statenet::detail::SqliteConnection;

namespace {

using statenet_test::exec_dir;

/// A fresh database with an empty `items` table.
SqliteConfig fresh_items_db(const char* name) {
    SqliteConfig config{"check", statenet_test::fresh_db_path("statenet_transactions_test", name).string()};
    SqliteConnection(config).exec("CREATE TABLE items (id INTEGER PRIMARY KEY)", {});
    return config;
}

std::int64_t committed_rows(const SqliteConfig& config) {
    return SqliteConnection(config).query("SELECT count(*) AS n FROM items", {})[0]["n"].as_int();
}

std::string workflow(const SqliteConfig& db, const std::string& transaction, const char* transform) {
    return "name = \"tx\"\n" + transaction + "\n[resources.db]\ntype = \"sqlite\"\npath = \"" + db.path +
           "\"\npool = 2\n"
           "[networks.main.states.save]\nstart = true\nend = true\nresources = [\"db\"]\ntransform = \"" +
           transform + "\"\n";
}

std::vector<Value> records(int n, std::vector<int> failing = {}) {
    std::vector<Value> list;
    for (int i = 1; i <= n; ++i) {
        Value r = Value::object({{"id", i}});
        for (int f : failing)
            if (f == i) r.set("fail", true);
        list.push_back(std::move(r));
    }
    return list;
}

}  // namespace

TEST_CASE("transactions - single: a Lua error after a write leaves no trace of it") {
    auto db = fresh_items_db("single.db");
    Engine engine;
    Workflow wf = engine.load_string(workflow(db, "", "tx.save"), exec_dir / "tx.toml");
    CHECK(wf.process(Value::from_json(R"({"id": 1})")).ok);
    Result failed = wf.process(Value::from_json(R"({"id": 2, "fail": true})"));
    REQUIRE(!failed.ok);
    CHECK(failed.error->name == "LuaError");
    CHECK(committed_rows(db) == 1);  // each record committed on its own, record 2 not at all
}

TEST_CASE("transactions - batch: failing records roll back alone, the rest of the batch commits") {
    auto db = fresh_items_db("batch.db");
    Engine engine;
    Workflow wf = engine.load_string(workflow(db, "[transaction]\nstrategy = \"batch\"\nbatch_size = 100", "tx.save"),
                                     exec_dir / "tx.toml");
    auto results = wf.process_batch(records(100, {37, 81}), {.workers = 1});
    for (std::size_t i = 0; i < results.size(); ++i) CHECK(results[i].ok == (i != 36 && i != 80));
    CHECK(committed_rows(db) == 98);
    Value ids = SqliteConnection(db).query("SELECT id FROM items WHERE id IN (36, 37, 38, 81)", {});
    CHECK(ids == Value::from_json(R"([{"id": 36}, {"id": 38}])"));
}

TEST_CASE("transactions - batch: nothing is visible before batch_size records or flush()") {
    auto db = fresh_items_db("batch_flush.db");
    Engine engine;
    Workflow wf = engine.load_string(workflow(db, "[transaction]\nstrategy = \"batch\"\nbatch_size = 10", "tx.save"),
                                     exec_dir / "tx.toml");
    for (const auto& r : records(9)) REQUIRE(wf.process(r).ok);
    CHECK(committed_rows(db) == 0);  // one open transaction holds all nine
    REQUIRE(wf.process(Value::from_json(R"({"id": 10})")).ok);
    CHECK(committed_rows(db) == 10);  // the tenth record closed the batch
    for (int i = 11; i <= 13; ++i) REQUIRE(wf.process(Value::object({{"id", i}})).ok);
    CHECK(committed_rows(db) == 10);
    wf.flush();
    CHECK(committed_rows(db) == 13);
}

TEST_CASE("transactions - batch: parallel workers hand the write lock over instead of timing out") {
    auto db = fresh_items_db("batch_workers.db");
    Engine engine;
    Workflow wf = engine.load_string(workflow(db, "[transaction]\nstrategy = \"batch\"\nbatch_size = 1000", "tx.save"),
                                     exec_dir / "tx.toml");
    auto results = wf.process_batch(records(400, {5, 300}), {.workers = 2});
    int ok = 0;
    for (const auto& r : results) ok += r.ok ? 1 : 0;
    CHECK(ok == 398);
    CHECK(results[4].error->name == "LuaError");
    CHECK(committed_rows(db) == 398);
}

TEST_CASE("transactions - manual: only what ctx.commit() covers stays; the rest is rolled back and logged") {
    auto db = fresh_items_db("manual.db");
    std::vector<std::string> warnings;
    std::mutex mutex;
    EngineOptions options;
    options.log = [&](const statenet::LogRecord& record) {
        std::lock_guard lock(mutex);
        if (record.level == statenet::LogLevel::warn) warnings.emplace_back(record.message);
    };
    Engine engine(options);
    Workflow wf = engine.load_string(workflow(db, "[transaction]\nstrategy = \"manual\"", "tx.commit_then_write"),
                                     exec_dir / "tx.toml");
    REQUIRE(wf.process(Value::from_json(R"({"id": 1})")).ok);
    Value ids = SqliteConnection(db).query("SELECT id FROM items", {});
    CHECK(ids == Value::from_json(R"([{"id": 1}])"));  // 1001 was never committed
    REQUIRE(warnings.size() == 1);
    CHECK(warnings[0].find("1 uncommitted change(s) on resource 'db' rolled back") != std::string::npos);
}

TEST_CASE("transactions - manual: ctx.rollback() discards the writes since the last commit") {
    auto db = fresh_items_db("manual_rollback.db");
    Engine engine;
    Workflow wf = engine.load_string(workflow(db, "[transaction]\nstrategy = \"manual\"", "tx.rollback_then_commit"),
                                     exec_dir / "tx.toml");
    REQUIRE(wf.process(Value::from_json(R"({"id": 2})")).ok);
    CHECK(SqliteConnection(db).query("SELECT id FROM items", {}) == Value::from_json(R"([{"id": 1002}])"));
}

TEST_CASE("transactions - ctx.commit() outside the manual strategy is an error naming it") {
    auto db = fresh_items_db("not_manual.db");
    Engine engine;
    Workflow wf = engine.load_string(workflow(db, "", "tx.commit_then_write"), exec_dir / "tx.toml");
    Result r = wf.process(Value::from_json(R"({"id": 3})"));
    REQUIRE(!r.ok);
    CHECK(r.error->name == "LuaError");
    CHECK(r.error->message.find("needs [transaction] strategy = \"manual\"") != std::string::npos);
    CHECK(committed_rows(db) == 0);
}

TEST_CASE("transactions - unknown strategies and bad batch sizes are load errors") {
    Engine engine;
    auto db = fresh_items_db("bad.db");
    try {
        engine.load_string(workflow(db, "[transaction]\nstrategy = \"batched\"\nbatch_size = 0", "tx.save"),
                           exec_dir / "tx.toml");
        FAIL("expected a LoadError");
    } catch (const statenet::LoadError& e) {
        REQUIRE(e.diagnostics().size() == 2);
        CHECK(e.diagnostics()[0].line == 3);
        CHECK(e.diagnostics()[0].message.find("did you mean 'batch'") != std::string::npos);
        CHECK(e.diagnostics()[1].message == "'batch_size' must be an integer from 1 to 2147483647");
    }
}
