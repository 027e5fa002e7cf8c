// `[branches]`: a breadth-first record's branches joined into one record, with the joins
// and merges of parallel states.
#include "exec_helpers.hpp"

#include <statenet/statenet.hpp>

#include <doctest/doctest.h>

#include <string>

using exec_test::run;
using statenet::Result;
using statenet::Value;

namespace {

std::string workflow(const std::string& join, const std::string& merge) {
    return R"toml(
name = "bj"
strategy = "breadth_first"
[branches]
join = )toml" +
           join + "\nmerge = " + merge + R"toml(
[networks.main.states.fork]
start = true
[[networks.main.states.fork.arcs]]
to = "price"
[[networks.main.states.fork.arcs]]
to = "stock"
[[networks.main.states.fork.arcs]]
to = "audit"
when = { lua = "data.audit" }
[networks.main.states.price]
end = true
transform = { lua = "data.price = 10; data.seen = 'price'" }
[networks.main.states.stock]
end = true
transform = { lua = "data.stock = 3; if data.fail then error({ name = 'OutOfStock', message = 'none left' }) end" }
[networks.main.states.audit]
end = true
transform = { lua = "data.audited = true" }
)toml";
}

}  // namespace

TEST_CASE("branch join - all + deep: one record with what every branch changed") {
    Result r = run(workflow("\"all\"", "\"deep\""), R"({"id": 1})");
    REQUIRE(r.ok);
    CHECK(r.data.to_json() == R"({"id":1,"price":10,"seen":"price","stock":3})");
    CHECK(r.branches.size() == 1);
    // One failing branch fails the record with its own error.
    r = run(workflow("\"all\"", "\"deep\""), R"({"id": 1, "fail": true})");
    REQUIRE(!r.ok);
    CHECK(r.error->name == "OutOfStock");
    CHECK(r.error->state == "main/stock");
}

TEST_CASE("branch join - namespaced: each branch's record under its end state's name") {
    Result r = run(workflow("\"all\"", "\"namespaced\""), R"({"id": 2})");
    REQUIRE(r.ok);
    CHECK(r.data["price"]["price"].as_int() == 10);
    CHECK(r.data["stock"]["stock"].as_int() == 3);
    CHECK(r.data["id"].as_int() == 2);
    CHECK(!r.data.find("seen"));
}

TEST_CASE("branch join - any: the first branch to finish is the record; quorum counts finished branches") {
    Result r = run(workflow("\"any\"", "\"deep\""), R"({"id": 3, "fail": true})");
    REQUIRE(r.ok);
    CHECK(r.data.to_json() == R"({"id":3,"fail":true,"price":10,"seen":"price"})");
    r = run(workflow("{ quorum = 2 }", "\"deep\""), R"({"id": 4, "fail": true, "audit": true})");
    REQUIRE(r.ok);  // price and audit finished
    CHECK(r.data["audited"].as_bool());
    CHECK(!r.data.find("stock"));
    r = run(workflow("{ quorum = 2 }", "\"deep\""), R"({"id": 5, "fail": true})");
    REQUIRE(!r.ok);
    CHECK(r.error->name == "ParallelFailed");
    CHECK(r.error->message == "1 of 2 branches finished, 2 needed; a branch failed: OutOfStock: none left");
    r = run(workflow("{ quorum = 3 }", "\"deep\""), R"({"id": 6})");
    REQUIRE(!r.ok);
    CHECK(r.error->message == "2 of 2 branches finished, 3 needed");
}

TEST_CASE("branch join - a merge function gets the branches by end state in ctx.branches") {
    Result r =
        run(workflow("\"all\"", "{ lua = \"return { total = ctx.branches.price.price * ctx.branches.stock.stock }\" }"),
            R"({"id": 7})");
    REQUIRE(r.ok);
    CHECK(r.data.to_json() == R"({"total":30})");
}

TEST_CASE("branch join - [branches] needs the breadth-first strategy") {
    statenet::Engine engine;
    CHECK_THROWS_WITH_AS(
        exec_test::load(engine, R"toml(
name = "wrong"
[branches]
join = "all"
[networks.main.states.a]
start = true
end = true
)toml"),
        doctest::Contains("[branches] joins breadth-first branches: it needs strategy = \"breadth_first\""),
        statenet::LoadError);
}
