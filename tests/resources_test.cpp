// The sqlite resource: bound parameters, typed rows, transactions, WAL, and its Lua face.
#include "resources/db_binding.hpp"
#include "resources/sqlite_resource.hpp"

#include <doctest/doctest.h>

#include <atomic>
#include <filesystem>
#include <stdexcept>
#include <string>

#include <unistd.h>

using statenet::Value;
using statenet::detail::ConvertRefs;
using statenet::detail::SqliteConfig;
using statenet::detail::SqliteConnection;

namespace {

// A fresh database file in its own temp directory, removed afterwards.
struct TempDb {
    std::filesystem::path dir;
    SqliteConfig config;

    TempDb() {
        static std::atomic<int> counter{0};
        dir = std::filesystem::temp_directory_path() /
              ("statenet_resources_test_" + std::to_string(::getpid()) + "_" + std::to_string(counter++));
        std::filesystem::remove_all(dir);
        std::filesystem::create_directories(dir);
        config.name = "db";
        config.path = (dir / "test.sqlite").string();
    }
    ~TempDb() {
        std::error_code ignored;
        std::filesystem::remove_all(dir, ignored);
    }
};

void create_items(SqliteConnection& db) {
    db.exec("CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT UNIQUE, price REAL, note TEXT)", {});
}

std::int64_t count_items(SqliteConnection& db) {
    return db.query("SELECT count(*) AS n FROM items", {})[0]["n"].as_int();
}

}  // namespace

TEST_CASE("resources - exec binds parameters and query returns typed rows") {
    TempDb temp;
    SqliteConnection db(temp.config);
    create_items(db);
    const std::string tricky = "O'Brien \"quoted\"; DROP TABLE items; --";
    CHECK(db.exec("INSERT INTO items (name, price, note) VALUES (?, ?, ?)", {Value(tricky), Value(2.5), Value()}) == 1);
    CHECK(db.exec("INSERT INTO items (name, price, note) VALUES (?, ?, ?)",
                  {Value("flag"), Value(true), Value::from_json(R"({"a":[1,2]})")}) == 1);

    Value rows = db.query("SELECT id, name, price, note FROM items ORDER BY id", {});
    REQUIRE(rows.size() == 2);
    CHECK(rows[0]["id"].is_int());
    CHECK(rows[0]["name"].as_string() == tricky);
    CHECK(rows[0]["price"].type() == Value::Type::number);
    CHECK(rows[0]["price"].as_number() == 2.5);
    CHECK(rows[0]["note"].is_null());
    CHECK(rows[1]["price"].as_number() == 1.0);  // true bound as 1, stored as REAL by affinity
    CHECK(rows[1]["note"].as_string() == R"({"a":[1,2]})");

    Value typed = db.query("SELECT 7 AS i, 1.5 AS f, 'x' AS t, NULL AS n, x'6869' AS b, ? AS flag", {Value(false)});
    CHECK(typed[0]["i"].type() == Value::Type::integer);
    CHECK(typed[0]["f"].type() == Value::Type::number);
    CHECK(typed[0]["t"].as_string() == "x");
    CHECK(typed[0]["n"].is_null());
    CHECK(typed[0]["b"].as_string() == "hi");
    CHECK(typed[0]["flag"].as_int() == 0);
}

TEST_CASE("resources - reused statements are rebound, and SQL errors name the resource") {
    TempDb temp;
    SqliteConnection db(temp.config);
    create_items(db);
    for (int i = 0; i < 3; ++i) db.exec("INSERT INTO items (name) VALUES (?)", {Value("n" + std::to_string(i))});
    CHECK(db.query("SELECT name FROM items WHERE name = ?", {Value("n2")}).size() == 1);
    CHECK(db.query("SELECT name FROM items WHERE name = ?", {Value("n9")}).size() == 0);
    CHECK_THROWS_WITH_AS(db.exec("SELEC nonsense", {}), doctest::Contains("db: "), std::runtime_error);
    CHECK_THROWS_WITH_AS(db.exec("INSERT INTO items (name) VALUES (?)", {Value("n1")}), doctest::Contains("UNIQUE"),
                         std::runtime_error);
}

TEST_CASE("resources - insert returns the rowid and upsert updates the same key") {
    TempDb temp;
    SqliteConnection db(temp.config);
    create_items(db);
    const std::int64_t first = db.insert("items", Value::object({{"name", "apple"}, {"price", 1.0}}));
    const std::int64_t second = db.insert("items", Value::object({{"name", "pear"}, {"price", 2.0}}));
    CHECK(second == first + 1);

    CHECK(db.upsert("items", Value::object({{"name", "apple"}, {"price", 3.5}}), "name") == 1);
    CHECK(count_items(db) == 2);
    CHECK(db.query("SELECT price FROM items WHERE name = 'apple'", {})[0]["price"].as_number() == 3.5);

    CHECK(db.upsert("items", Value::object({{"name", "plum"}, {"price", 4.0}}), "name") == 1);
    CHECK(count_items(db) == 3);
    CHECK(db.upsert("items", Value::object({{"name", "plum"}}), "name") == 0);  // key only: DO NOTHING
}

TEST_CASE("resources - bad identifiers and rows are rejected") {
    TempDb temp;
    SqliteConnection db(temp.config);
    create_items(db);
    CHECK_THROWS_AS(db.insert("items; DROP TABLE items", Value::object({{"name", "x"}})), std::runtime_error);
    CHECK_THROWS_AS(db.insert("items", Value::object({{"na\"me", "x"}})), std::runtime_error);
    CHECK_THROWS_AS(db.insert("1items", Value::object({{"name", "x"}})), std::runtime_error);
    CHECK_THROWS_AS(db.insert("items", Value::object()), std::runtime_error);
    CHECK_THROWS_AS(db.insert("items", Value("x")), std::runtime_error);
    CHECK_THROWS_AS(db.upsert("items", Value::object({{"name", "x"}}), "price"), std::runtime_error);
    CHECK_THROWS_AS(db.upsert("items", Value::object({{"name", "x"}}), "na me"), std::runtime_error);
    CHECK(count_items(db) == 0);
}

TEST_CASE("resources - begin and rollback leave no row; commit keeps it") {
    TempDb temp;
    SqliteConnection db(temp.config);
    create_items(db);
    CHECK_FALSE(db.in_transaction());
    db.begin();
    CHECK(db.in_transaction());
    db.insert("items", Value::object({{"name", "gone"}}));
    db.rollback();
    CHECK_FALSE(db.in_transaction());
    CHECK(count_items(db) == 0);

    db.begin();
    db.insert("items", Value::object({{"name", "kept"}}));
    db.commit();
    CHECK_FALSE(db.in_transaction());
    SqliteConnection other(temp.config);
    CHECK(other.query("SELECT name FROM items", {})[0]["name"].as_string() == "kept");
}

TEST_CASE("resources - rollback_to undoes only the writes since the savepoint") {
    TempDb temp;
    SqliteConnection db(temp.config);
    create_items(db);
    db.begin();
    db.insert("items", Value::object({{"name", "outer"}}));
    db.savepoint("statenet_step");
    db.insert("items", Value::object({{"name", "inner"}}));
    db.rollback_to("statenet_step");
    CHECK(db.in_transaction());
    db.savepoint("statenet_step");
    db.insert("items", Value::object({{"name", "released"}}));
    db.release("statenet_step");
    db.commit();
    Value rows = db.query("SELECT name FROM items ORDER BY id", {});
    REQUIRE(rows.size() == 2);
    CHECK(rows[0]["name"].as_string() == "outer");
    CHECK(rows[1]["name"].as_string() == "released");
}

TEST_CASE("resources - file databases use WAL; :memory: opens") {
    TempDb temp;
    SqliteConnection db(temp.config);
    CHECK(db.query("PRAGMA journal_mode", {})[0]["journal_mode"].as_string() == "wal");
    CHECK(db.query("PRAGMA synchronous", {})[0]["synchronous"].as_int() == 1);  // NORMAL

    SqliteConnection memory(SqliteConfig{"mem", ":memory:", 1, 100});
    CHECK(memory.query("SELECT 1 AS one", {})[0]["one"].as_int() == 1);

    SqliteConfig bad = temp.config;
    bad.path = (temp.dir / "missing" / "x.sqlite").string();
    CHECK_THROWS_WITH_AS(SqliteConnection{bad}, doctest::Contains("db: "), std::runtime_error);
}

namespace {

// A bare Lua state with the converter refs set up, as the runtime does for a VM.
struct LuaFixture {
    lua_State* L = luaL_newstate();
    ConvertRefs refs;
    statenet::detail::ResourceMeter meter{"db", "sqlite"};

    LuaFixture() {
        luaL_openlibs(L);
        lua_newtable(L);
        refs.array_mt = luaL_ref(L, LUA_REGISTRYINDEX);
        REQUIRE(luaL_loadstring(L, "return function(t) return t end") == 0);
        lua_call(L, 0, 1);
        refs.materialize = luaL_ref(L, LUA_REGISTRYINDEX);
    }
    ~LuaFixture() { lua_close(L); }

    /// Makes `db` the Lua global `db`.
    void bind(SqliteConnection& db) {
        statenet::detail::push_db_binding(L, &db, refs, meter);
        lua_setglobal(L, "db");
    }

    // Runs `chunk`; returns its error text, or "" on success.
    std::string run(const char* chunk) {
        if (luaL_loadstring(L, chunk) != 0 || lua_pcall(L, 0, 0, 0) != 0) {
            if (lua_istable(L, -1)) lua_getfield(L, -1, "message");  // a ResourceError table
            const char* text = lua_tostring(L, -1);
            std::string message = text ? text : "(non-string error)";
            lua_settop(L, 0);
            return message;
        }
        return "";
    }
};

}  // namespace

TEST_CASE("resources - Lua binding runs exec, query, insert and upsert") {
    TempDb temp;
    SqliteConnection db(temp.config);
    LuaFixture lua;
    lua.bind(db);

    CHECK(lua.run(R"lua(
        assert(db.exec("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT UNIQUE, qty INTEGER)") == 0)
        assert(db.exec("INSERT INTO t (name, qty) VALUES (?, ?)", "it's", 3) == 1)
        assert(db:exec("INSERT INTO t (name, qty) VALUES (?, ?)", "b", 4) == 1)
        local id = db.insert("t", { name = "c", qty = 5 })
        assert(id == 3, "rowid " .. tostring(id))
        assert(db:upsert("t", { name = "c", qty = 9 }, "name") == 1)
        local rows = db:query("SELECT name, qty FROM t WHERE qty > ? ORDER BY id", 3)
        assert(#rows == 2, "rows " .. #rows)
        assert(rows[1].name == "b" and rows[1].qty == 4)
        assert(rows[2].name == "c" and rows[2].qty == 9)
        local quoted = db.query("SELECT qty FROM t WHERE name = ?", "it's")
        assert(quoted[1].qty == 3)
        assert(#db.query("SELECT * FROM t WHERE name = ?", "none") == 0)
    )lua") == "");
    CHECK(db.query("SELECT count(*) AS n FROM t", {})[0]["n"].as_int() == 3);
}

TEST_CASE("resources - Lua binding raises ResourceError tables") {
    TempDb temp;
    SqliteConnection db(temp.config);
    LuaFixture lua;
    lua.bind(db);

    CHECK(lua.run(R"lua(
        local ok, err = pcall(db.exec, "SELEC broken")
        assert(not ok)
        assert(type(err) == "table" and err.name == "ResourceError", tostring(err))
        assert(err.message:find("^db: "), err.message)
        ok, err = pcall(function() return db:insert("bad name", { x = 1 }) end)
        assert(not ok and err.name == "ResourceError" and err.message:find("bad name"), err.message)
        ok, err = pcall(db.query, 42)
        assert(not ok and err.name == "ResourceError")
        ok, err = pcall(db.query, "SELECT ?", function() end)
        assert(not ok and err.name == "ResourceError")
        assert(db.query("SELECT 1 AS one")[1].one == 1)
    )lua") == "");
}

TEST_CASE("resources - one statement per call: SQL after the first statement is an error, not skipped") {
    TempDb temp;
    SqliteConnection db(temp.config);
    LuaFixture lua;
    lua.bind(db);
    db.exec("CREATE TABLE t (id INTEGER)", {});
    const std::string refused = "db: one statement per call: the SQL goes on after its first statement";
    CHECK(lua.run(R"(db.exec("SELECT 1; DROP TABLE t"))") == refused);
    CHECK(lua.run(R"(db.query("SELECT 1; DELETE FROM t"))") == refused);
    CHECK(lua.run(R"(db.exec("INSERT INTO t VALUES (1); garbage"))") == refused);
    CHECK(db.query("SELECT count(*) AS n FROM t", {})[0]["n"].as_int() == 0);  // nothing ran
    // Trailing semicolons, spaces and comments are not statements.
    CHECK(lua.run(R"(db.exec("INSERT INTO t VALUES (1);  ;\n-- done\n/* really */"))") == "");
    CHECK(db.query("SELECT count(*) AS n FROM t", {})[0]["n"].as_int() == 1);
}

TEST_CASE("resources - ATTACH and DETACH are refused: a resource is one database") {
    TempDb temp;
    SqliteConnection db(temp.config);
    LuaFixture lua;
    lua.bind(db);
    const std::string other = (temp.dir / "other.sqlite").string();
    const std::string refused = "db: ATTACH and DETACH are not allowed: a resource is one database";
    CHECK(lua.run(("db.exec(\"ATTACH DATABASE '" + other + "' AS other\")").c_str()) == refused);
    CHECK(lua.run(R"(db.exec("ATTACH ? AS other", "x.sqlite"))") == refused);
    CHECK(lua.run(R"(db.exec("DETACH DATABASE main"))") == refused);
    CHECK_FALSE(std::filesystem::exists(other));
    CHECK(lua.run(R"lua(db.exec("CREATE TABLE ok (id INTEGER)"))lua") == "");  // the connection still works
}
