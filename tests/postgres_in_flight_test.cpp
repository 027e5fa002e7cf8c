// postgres calls yield: records in flight on one worker overlap their statements on the
// test cluster, wait for pooled connections without blocking the worker, and keep their
// own transactions.
#include "pg_cluster.hpp"

#include "api/workflow_impl.hpp"
#include "exec/in_flight.hpp"
#include "resources/postgres_resource.hpp"

#include <statenet/statenet.hpp>

#include <doctest/doctest.h>

#include <algorithm>
#include <string>
#include <vector>

using statenet::Engine;
using statenet::Value;
using statenet::Workflow;
using statenet_test::pg_cluster;

namespace {

// Each record notes the server's clock before and after its pg_sleep, and writes a row
// (in its own transaction) unless it then fails.
std::string sleeper(int in_flight, int pool, const std::string& table) {
    return "name = \"pg_sleep\"\nin_flight = " + std::to_string(in_flight) +
           "\n[resources.pg]\ntype = \"postgres\"\ndsn = \"" + pg_cluster().dsn() +
           "\"\npool = " + std::to_string(pool) + "\nacquire_timeout_ms = 3000\n" + R"wf(
[networks.main.states.sleep]
start = true
end = true
resources = ["pg"]
transform = { lua = """
local pg = ctx.resources.pg
data.t0 = pg.query("SELECT extract(epoch FROM clock_timestamp())::float8 AS t")[1].t
pg.query("SELECT pg_sleep(0.2)")
data.t1 = pg.query("SELECT extract(epoch FROM clock_timestamp())::float8 AS t")[1].t
pg.insert(")wf" +
           table + R"wf(", { id = data.id })
if data.fail then error("failed after its insert") end
""" }
)wf";
}

std::vector<Value> records(int n, int failing = -1) {
    std::vector<Value> out;
    for (int i = 0; i < n; ++i) {
        Value r = Value::object({{"id", static_cast<long long>(i)}});
        if (i == failing) r.set("fail", true);
        out.push_back(std::move(r));
    }
    return out;
}

std::int64_t rows_in(const std::string& table) {
    statenet::detail::PostgresConnection c({"test", pg_cluster().dsn(), 0});
    return c.query("SELECT count(*) AS n FROM " + table, {})[0]["n"].as_int();
}

}  // namespace

TEST_CASE("postgres in flight - eight records on one worker sleep in the server at the same time") {
    statenet::detail::PostgresConnection setup({"test", pg_cluster().dsn(), 0});
    setup.exec("CREATE TABLE overlap_t (id bigint PRIMARY KEY)", {});
    Engine engine;
    Workflow wf = engine.load_string(sleeper(8, 8, "overlap_t"), "pg_sleep.toml");
    statenet::BatchOptions one_worker;
    one_worker.workers = 1;
    const auto results = wf.process_batch(records(8, 3), one_worker);
    REQUIRE(results.size() == 8);
    double last_start = 0, first_end = 1e300;
    for (std::size_t i = 0; i < results.size(); ++i) {
        if (i == 3) {
            CHECK_FALSE(results[i].ok);
            continue;
        }
        REQUIRE_MESSAGE(results[i].ok, (results[i].error ? results[i].error->message : ""));
        last_start = std::max(last_start, results[i].data["t0"].as_number());
        first_end = std::min(first_end, results[i].data["t1"].as_number());
    }
    // One at a time, a record would start only after the one before it had ended.
    CHECK(last_start < first_end);
    // Each record had its own transaction: the failed one's row rolled back alone.
    CHECK(rows_in("overlap_t") == 7);
}

TEST_CASE("postgres in flight - records waiting for a pooled connection yield instead of blocking the worker") {
    statenet::detail::PostgresConnection setup({"test", pg_cluster().dsn(), 0});
    setup.exec("CREATE TABLE pool_wait_t (id bigint PRIMARY KEY)", {});
    Engine engine;
    // 12 records in flight share 3 connections: the 9 waiting for one must let the
    // holders (on the same thread) finish, or they would all time out.
    Workflow wf = engine.load_string(sleeper(12, 3, "pool_wait_t"), "pg_sleep.toml");
    statenet::BatchOptions one_worker;
    one_worker.workers = 1;
    const auto results = wf.process_batch(records(12), one_worker);
    for (const auto& r : results) REQUIRE_MESSAGE(r.ok, (r.error ? r.error->message : ""));
    CHECK(rows_in("pool_wait_t") == 12);
    // At most three at once: how many were between their t0 and t1 when each started.
    int most = 0;
    for (const auto& a : results) {
        const double at = a.data["t0"].as_number();
        int together = 0;
        for (const auto& b : results)
            if (b.data["t0"].as_number() <= at && at < b.data["t1"].as_number()) ++together;
        most = std::max(most, together);
    }
    CHECK(most <= 3);
    CHECK(most >= 2);
    auto stats = wf.resource_stats();
    REQUIRE(stats.size() == 1);
    CHECK(stats[0].type == "postgres");
    CHECK(stats[0].calls == 12 * 4);
    CHECK(stats[0].health == "ok");
}

TEST_CASE("postgres in flight - without an in_flight key a postgres workflow keeps `pool` records in flight") {
    Engine engine;
    auto slots = [&](const std::string& resources, const std::string& key = "") {
        Workflow wf = engine.load_string(
            "name = \"slots\"\n" + key + resources + "[networks.main.states.a]\nstart = true\nend = true\n",
            "slots.toml");
        return statenet::detail::in_flight_slots(*wf.impl().model(), 0);
    };
    const std::string pg = "[resources.pg]\ntype = \"postgres\"\ndsn = \"" + pg_cluster().dsn() + "\"\npool = 6\n";
    CHECK(slots(pg) == 6);
    CHECK(slots(pg, "in_flight = 20\n") == 20);
    CHECK(slots(pg + "[resources.api]\ntype = \"http\"\nbase_url = \"http://127.0.0.1:1\"\n") == 64);
    CHECK(slots("[resources.db]\ntype = \"sqlite\"\npath = \"x.db\"\n") == 1);
}
