// Machines with resources: an event's sqlite writes commit with the event and roll back
// when it fails; an http resource answers from the fake server inside an event; a
// failing commit fails the event and leaves the instance as it was.
#include "machines_helpers.hpp"
#include "pg_cluster.hpp"
#include "servers/fake_api.hpp"

#include "resources/postgres_resource.hpp"

#include <SQLiteCpp/SQLiteCpp.h>
#include <doctest/doctest.h>

#include <cstdlib>

using machines_test::json;
using machines_test::scratch;
using machines_test::write;
using statenet::Engine;
using statenet::Machines;
using statenet::SendStatus;

namespace {

int rows(const machines_test::fs::path& db, const char* where = "1") {
    SQLite::Database check(db.string());
    return check.execAndGet(std::string("SELECT count(*) FROM orders WHERE ") + where).getInt();
}

}  // namespace

TEST_CASE("machines resources - an event's sqlite writes commit with it and roll back when it fails") {
    auto dir = scratch("resources_sqlite");
    {
        SQLite::Database db((dir / "orders.db").string(), SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
        db.exec("CREATE TABLE orders (id TEXT, item TEXT, qty INTEGER)");
    }
    write(dir / "wf.toml", R"toml(
name = "shop"
[resources.db]
type = "sqlite"
path = "orders.db"
[networks.main.states.open]
start = true
resources = ["db"]
[[networks.main.states.open.arcs]]
to = "open"
on = "add"
transform = { lua = """
ctx.resources.db.insert("orders", { id = ctx.run_id, item = ctx.event.item, qty = ctx.event.qty })
if ctx.event.qty < 1 then error("qty must be positive") end
data.lines = (data.lines or 0) + 1
""" }
[[networks.main.states.open.arcs]]
to = "closed"
on = "close"
transform = { lua = "data.total = ctx.resources.db.query('SELECT sum(qty) AS n FROM orders')[1].n" }
[networks.main.states.closed]
end = true
)toml");
    Engine engine;
    Machines m(engine, dir / "wf.toml");
    REQUIRE(m.start("cart", json("{}")).status == SendStatus::applied);
    CHECK(m.send("cart", "add", json(R"({"item":"tea","qty":2})")).status == SendStatus::applied);
    CHECK(rows(dir / "orders.db") == 1);
    // The insert happened, then the event failed: the row goes with it.
    auto bad = m.send("cart", "add", json(R"({"item":"cup","qty":0})"));
    CHECK(bad.status == SendStatus::rejected);
    REQUIRE(bad.error);
    CHECK(bad.error->message.find("qty must be positive") != std::string::npos);
    CHECK(rows(dir / "orders.db") == 1);
    CHECK(rows(dir / "orders.db", "item = 'cup'") == 0);
    CHECK(m.send("cart", "add", json(R"({"item":"pot","qty":3})")).status == SendStatus::applied);
    auto closed = m.send("cart", "close", json("{}"));
    REQUIRE(closed.status == SendStatus::applied);
    CHECK(m.get("cart")->data["total"].as_int() == 5);
    CHECK(m.get("cart")->data["lines"].as_int() == 2);
    // The connection went back to the pool after each event: another writer is not locked out.
    SQLite::Database other((dir / "orders.db").string(), SQLite::OPEN_READWRITE);
    other.exec("INSERT INTO orders VALUES ('x', 'y', 1)");
}

TEST_CASE("machines resources - a resource no state lists stays out of ctx.resources") {
    auto dir = scratch("resources_unlisted");
    write(dir / "wf.toml", R"toml(
name = "unlisted"
[resources.db]
type = "sqlite"
path = "x.db"
[networks.main.states.a]
start = true
[[networks.main.states.a.arcs]]
to = "a"
on = "peek"
transform = { lua = "data.has = ctx.resources.db ~= nil" }
)toml");
    Engine engine;
    Machines m(engine, dir / "wf.toml");
    m.start("i", json("{}"));
    REQUIRE(m.send("i", "peek", json("{}")).status == SendStatus::applied);
    CHECK(m.get("i")->data["has"].as_bool() == false);
}

TEST_CASE("machines resources - an http resource answers inside an event (a blocking call)") {
    setenv("no_proxy", "127.0.0.1", 1);
    statenet_test::FakeApi api;
    api.start();
    auto dir = scratch("resources_http");
    write(dir / "wf.toml", R"toml(
name = "lookup"
[resources.api]
type = "http"
base_url = ")toml" + api.base_url() +
                               R"toml("
retries = 0
[networks.main.states.idle]
start = true
resources = ["api"]
[[networks.main.states.idle.arcs]]
to = "idle"
on = "lookup"
transform = { lua = "data.name = ctx.resources.api:get('/items/' .. ctx.event.id).json.name" }
)toml");
    Engine engine;
    Machines m(engine, dir / "wf.toml");
    m.start("i", json("{}"));
    REQUIRE(m.send("i", "lookup", json(R"({"id":7})")).status == SendStatus::applied);
    CHECK(m.get("i")->data["name"].as_string() == "item-7");
    auto missing = m.send("i", "lookup", json(R"({"id":404})"));
    CHECK(missing.status == SendStatus::rejected);
    REQUIRE(missing.error);
    CHECK(missing.error->name == "HttpError");
    CHECK(m.get("i")->data["name"].as_string() == "item-7");
}

TEST_CASE("machines resources - a postgres commit that fails fails the event and keeps the instance's data") {
    statenet::detail::PostgresConnection setup({"test", statenet_test::pg_cluster().dsn(), 0});
    setup.exec("CREATE TABLE m_parent (id int PRIMARY KEY)", {});
    setup.exec("CREATE TABLE m_child (id int, parent int REFERENCES m_parent(id) DEFERRABLE INITIALLY DEFERRED)", {});
    setup.exec("INSERT INTO m_parent VALUES (1)", {});
    auto dir = scratch("resources_pg");
    write(dir / "wf.toml", R"toml(
name = "deferred"
[resources.pg]
type = "postgres"
dsn = ")toml" + statenet_test::pg_cluster().dsn() +
                               R"toml("
[networks.main.states.a]
start = true
resources = ["pg"]
[[networks.main.states.a.arcs]]
to = "a"
on = "link"
transform = { lua = """
ctx.resources.pg.exec("INSERT INTO m_child VALUES ($1, $2)", ctx.event.id, ctx.event.parent)
data.links = (data.links or 0) + 1
""" }
)toml");
    Engine engine;
    Machines m(engine, dir / "wf.toml");
    m.start("i", json("{}"));
    REQUIRE(m.send("i", "link", json(R"({"id":1,"parent":1})")).status == SendStatus::applied);
    // The foreign key is checked at COMMIT, after the Lua work applied.
    auto bad = m.send("i", "link", json(R"({"id":2,"parent":99})"));
    CHECK(bad.status == SendStatus::rejected);
    REQUIRE(bad.error);
    CHECK(bad.error->name == "ResourceError");
    CHECK(bad.error->message.find("m_child") != std::string::npos);
    CHECK(m.get("i")->data["links"].as_int() == 1);
    CHECK(setup.query("SELECT count(*) AS n FROM m_child", {})[0]["n"].as_int() == 1);
    REQUIRE(m.send("i", "link", json(R"({"id":3,"parent":1})")).status == SendStatus::applied);
    CHECK(m.get("i")->data["links"].as_int() == 2);
}

TEST_CASE("machines resources - a retried state's failed attempt rolls back its writes; the retry's stay") {
    auto dir = scratch("resources_retry");
    {
        SQLite::Database db((dir / "orders.db").string(), SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
        db.exec("CREATE TABLE orders (id TEXT, item TEXT, qty INTEGER)");
    }
    write(dir / "wf.toml", R"toml(
name = "retry"
[resources.db]
type = "sqlite"
path = "orders.db"
[networks.main.states.open]
start = true
[[networks.main.states.open.arcs]]
to = "record"
on = "add"
[networks.main.states.record]
resources = ["db"]
retry = [{ errors = ["Flaky"], attempts = 2 }]
transform = { lua = """
ctx.resources.db.insert("orders", { id = tostring(ctx.attempt), item = "tea", qty = 1 })
if ctx.attempt == 0 then error({ name = "Flaky", message = "first attempt fails" }) end
""" }
[[networks.main.states.record.arcs]]
to = "open"
)toml");
    Engine engine;
    Machines m(engine, dir / "wf.toml");
    m.start("cart", json("{}"));
    auto r = m.send("cart", "add", json("{}"));
    REQUIRE_MESSAGE(r.status == SendStatus::applied, r.reason);
    CHECK(rows(dir / "orders.db") == 1);
    CHECK(rows(dir / "orders.db", "id = '1'") == 1);
}

TEST_CASE("machines resources - a files write lands with its event and vanishes with a failed one") {
    auto dir = scratch("resources_files");
    write(dir / "wf.toml", R"toml(
name = "notes"
[resources.out]
type = "files"
root = "out"
[networks.main.states.a]
start = true
resources = ["out"]
[[networks.main.states.a.arcs]]
to = "a"
on = "note"
transform = { lua = """
ctx.resources.out:write(ctx.event.name .. ".txt", ctx.event.text)
if ctx.event.fail then error("no") end
""" }
)toml");
    Engine engine;
    Machines m(engine, dir / "wf.toml");
    m.start("i", json("{}"));
    REQUIRE(m.send("i", "note", json(R"({"name":"a","text":"kept"})")).status == SendStatus::applied);
    CHECK(machines_test::fs::exists(dir / "out/a.txt"));
    CHECK(m.send("i", "note", json(R"({"name":"b","text":"dropped","fail":true})")).status == SendStatus::rejected);
    CHECK_FALSE(machines_test::fs::exists(dir / "out/b.txt"));
}
