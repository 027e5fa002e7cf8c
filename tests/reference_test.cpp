// Reference mode (SPEC section 6): rows loaded on first touch, version-checked commits.
#include "resources/sqlite_resource.hpp"
#include "test_paths.hpp"

#include <statenet/statenet.hpp>

#include <doctest/doctest.h>

#include <filesystem>
#include <future>
#include <string>
#include <thread>

using statenet::Engine;
using statenet::EngineOptions;
using statenet::Result;
using statenet::Value;
using statenet::Workflow;
using statenet::detail::SqliteConfig;
using statenet::detail::SqliteConnection;

namespace {

using statenet_test::exec_dir;

/// A fresh database with accounts 1 (ada, 100) and 2 (bob, 50), both at version 1.
SqliteConfig fresh_accounts(const char* name) {
    SqliteConfig config{"check", statenet_test::fresh_db_path("statenet_reference_test", name).string()};
    SqliteConnection db(config);
    db.exec(
        "CREATE TABLE accounts (id INTEGER PRIMARY KEY, owner TEXT, balance INTEGER, attempts INTEGER, "
        "version INTEGER)",
        {});
    db.exec("INSERT INTO accounts VALUES (1, 'ada', 100, NULL, 1), (2, 'bob', 50, NULL, 1)", {});
    return config;
}

Value row(const SqliteConfig& db, int id) {
    return SqliteConnection(db).query("SELECT id, owner, balance, version FROM accounts WHERE id = ?", {Value(id)})[0];
}

std::string workflow(const SqliteConfig& db, const char* transform, const char* start_extra = "") {
    return std::string("name = \"bank\"\ndata_mode = \"reference\"\n[vars]\namount = 10\n") +
           "[resources.accounts]\ntype = \"sqlite\"\npath = \"" + db.path + "\"\npool = 3\n" +
           "[reference]\nresource = \"accounts\"\ntable = \"accounts\"\nkey = \"id\"\nversion = \"version\"\n" +
           "[networks.main.states.work]\nstart = true\ntransform = \"" + transform + "\"\n" + start_extra +
           "\n[[networks.main.states.work.arcs]]\nto = \"done\"\n[networks.main.states.done]\nend = true\n";
}

}  // namespace

TEST_CASE("reference - the input is a key; the row loads on touch and changes are written back") {
    auto db = fresh_accounts("basic.db");
    Engine engine;
    Workflow wf = engine.load_string(workflow(db, "bank.rename"), exec_dir / "bank.toml");
    Result r = wf.process(Value::from_json(R"({"id": 1})"));
    REQUIRE(r.ok);
    CHECK(r.data["owner"].as_string() == "ADA");
    CHECK(r.data["balance"].as_int() == 100);
    CHECK(r.data["version"].as_int() == 2);
    CHECK(row(db, 1) == Value::from_json(R"({"id": 1, "owner": "ADA", "balance": 100, "version": 2})"));
    CHECK(row(db, 2)["version"].as_int() == 1);  // the other row is untouched
    // A bare key works too.
    Result bare = wf.process(Value(2));
    REQUIRE(bare.ok);
    CHECK(row(db, 2)["owner"].as_string() == "BOB");
}

TEST_CASE("reference - a run that changes nothing writes nothing; pairs() sees the whole row") {
    auto db = fresh_accounts("read_only.db");
    Engine engine;
    Workflow wf = engine.load_string(workflow(db, "bank.count_fields"), exec_dir / "bank.toml");
    Result r = wf.process(Value::from_json(R"({"id": 1})"));
    REQUIRE(!r.ok);  // `seen` is not a column of accounts: the commit fails, nothing is written
    CHECK(r.error->name == "ResourceError");
    CHECK(r.error->message.find("seen") != std::string::npos);
    CHECK(row(db, 1)["version"].as_int() == 1);

    Workflow untouched = engine.load_string(workflow(db, "bank.nothing"), exec_dir / "bank.toml");
    Result plain = untouched.process(Value::from_json(R"({"id": 2})"));
    REQUIRE(plain.ok);
    // NULL columns are nil in Lua, so they are absent from the output.
    CHECK(plain.data == Value::from_json(R"({"id": 2, "owner": "bob", "balance": 50, "version": 1})"));
    CHECK(row(db, 2)["version"].as_int() == 1);
}

TEST_CASE("reference - a missing row is NotFound; the key and the version cannot change") {
    auto db = fresh_accounts("errors.db");
    Engine engine;
    Workflow wf = engine.load_string(workflow(db, "bank.rename"), exec_dir / "bank.toml");
    Result missing = wf.process(Value::from_json(R"({"id": 9})"));
    REQUIRE(!missing.ok);
    CHECK(missing.error->name == "NotFound");
    CHECK(missing.error->message == "no row with id = 9 in table 'accounts'");
    CHECK(missing.error->state == "main/work");

    Result no_key = wf.process(Value::from_json(R"({"name": "ada"})"));
    REQUIRE(!no_key.ok);
    CHECK(no_key.error->name == "SchemaViolation");

    Workflow rekey = engine.load_string(
        "name = \"k\"\ndata_mode = \"reference\"\n[resources.accounts]\ntype = \"sqlite\"\npath = \"" + db.path +
            "\"\n[reference]\nresource = \"accounts\"\ntable = \"accounts\"\n"
            "[networks.main.states.s]\nstart = true\nend = true\ntransform = { lua = \"data.version = 7\" }\n",
        exec_dir / "bank.toml");
    Result changed = rekey.process(Value(1));
    REQUIRE(!changed.ok);
    CHECK(changed.error->name == "SchemaViolation");
    CHECK(changed.error->message.find("field 'version' is the row's version") != std::string::npos);
    CHECK(row(db, 1)["version"].as_int() == 1);
}

namespace {

/// Runs two credits of row 1 at once: the first reads the row, then waits in its log
/// call until the second has committed.
struct Race {
    Result first, second;
};

Race race(const SqliteConfig& db, const char* start_extra) {
    std::promise<void> first_read, second_done;
    std::shared_future<void> done = second_done.get_future().share();
    std::thread::id first_thread;
    bool held = false;
    EngineOptions options;
    options.log = [&](const statenet::LogRecord&) {
        if (std::this_thread::get_id() != first_thread || held) return;
        held = true;
        first_read.set_value();
        done.wait();
    };
    Engine engine(options);
    Workflow wf = engine.load_string(workflow(db, "bank.credit", start_extra), exec_dir / "bank.toml");
    Race out;
    std::thread a([&] {
        first_thread = std::this_thread::get_id();
        out.first = wf.process(Value::from_json(R"({"id": 1})"));
    });
    first_read.get_future().wait();
    out.second = wf.process(Value::from_json(R"({"id": 1})"));
    second_done.set_value();
    a.join();
    return out;
}

}  // namespace

TEST_CASE("reference - two concurrent runs on one row: one commits, the other gets Conflict") {
    auto db = fresh_accounts("conflict.db");
    Race r = race(db, "");
    REQUIRE(r.second.ok);
    REQUIRE(!r.first.ok);
    CHECK(r.first.error->name == "Conflict");
    CHECK(r.first.error->message == "row id = 1 of table 'accounts' changed since it was read (version 1)");
    CHECK(row(db, 1)["balance"].as_int() == 110);  // only the second credit
    CHECK(row(db, 1)["version"].as_int() == 2);
}

TEST_CASE("reference - with retry on Conflict the losing run re-reads the row and wins") {
    auto db = fresh_accounts("conflict_retry.db");
    Race r = race(db, "retry = [{ errors = [\"Conflict\"], attempts = 2, interval_ms = 0 }]");
    REQUIRE(r.second.ok);
    REQUIRE(r.first.ok);
    CHECK(r.first.data["attempts"].as_int() == 1);   // ctx.attempt of the re-run
    CHECK(r.first.data["balance"].as_int() == 120);  // re-read 110, then credited
    CHECK(row(db, 1)["balance"].as_int() == 120);
    CHECK(row(db, 1)["version"].as_int() == 3);
}

TEST_CASE("reference - configuration errors are reported at load with their position") {
    Engine engine;
    try {
        engine.load_string(R"(name = "r"
data_mode = "reference"
[resources.db]
type = "sqlite"
path = ":memory:"
[reference]
resource = "dbb"
table = "bad name"
[networks.main.states.s]
start = true
end = true
data_mode = "reference"
)",
                           exec_dir / "bank.toml");
        FAIL("expected a LoadError");
    } catch (const statenet::LoadError& e) {
        REQUIRE(e.diagnostics().size() == 3);
        CHECK(e.diagnostics()[0].line == 7);
        CHECK(e.diagnostics()[0].message.find("unknown resource 'dbb'") != std::string::npos);
        CHECK(e.diagnostics()[1].line == 8);
        CHECK(e.diagnostics()[1].message.find("must be a SQL identifier") != std::string::npos);
        CHECK(e.diagnostics()[2].line == 12);
        CHECK(e.diagnostics()[2].message.find("set for the whole workflow") != std::string::npos);
    }
    try {
        engine.load_string(
            "name = \"r\"\ndata_mode = \"reference\"\n[networks.main.states.s]\nstart = true\nend = true\n",
            exec_dir / "bank.toml");
        FAIL("expected a LoadError");
    } catch (const statenet::LoadError& e) {
        REQUIRE(e.diagnostics().size() == 1);
        CHECK(e.diagnostics()[0].line == 2);
        CHECK(e.diagnostics()[0].message.find("needs a [reference] table") != std::string::npos);
    }
}
