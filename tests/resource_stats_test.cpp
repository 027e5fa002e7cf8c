// Counters and health of the resource kinds that have no circuit breaker (sqlite,
// vector, files): calls and errors counted alike, health ok / degraded / down.
#include "temp_dir.hpp"

#include <statenet/statenet.hpp>

#include <doctest/doctest.h>

#include <string>

using statenet::Engine;
using statenet::Value;
using statenet::Workflow;
using statenet_test::TempDir;

TEST_CASE("resource stats - a sqlite database that cannot be opened is down, then ok once it can") {
    TempDir dir("statenet_resource_down");
    Engine engine;
    Workflow wf = engine.load_string(R"toml(
name = "down"
[resources.db]
type = "sqlite"
path = "missing/dir/x.db"
[networks.main.states.go]
start = true
end = true
resources = ["db"]
transform = { lua = "local _ = ctx.resources.db.exec('SELECT 1')" }
)toml",
                                     dir / "down.toml");
    auto r = wf.process(Value::object());
    REQUIRE_FALSE(r.ok);
    CHECK(r.error->name == "ResourceError");
    auto stats = wf.resource_stats();
    REQUIRE(stats.size() == 1);
    CHECK(stats[0].health == "down");
    CHECK(stats[0].calls == 0);  // it never got as far as a call
    std::filesystem::create_directories(dir / "missing/dir");
    REQUIRE(wf.process(Value::object()).ok);
    stats = wf.resource_stats();
    CHECK(stats[0].health == "ok");
    CHECK(stats[0].calls == 1);
}

TEST_CASE("resource stats - vector and files calls are counted; a failed call degrades, a missing root is down") {
    TempDir dir("statenet_resource_counts");
    Engine engine;
    Workflow wf = engine.load_string(R"toml(
name = "counts"
[resources.vec]
type = "vector"
path = "v.db"
dim = 2
[resources.out]
type = "files"
root = "out"
[resources.gone]
type = "files"
root = "gone"
create = false
[networks.main.states.go]
start = true
resources = ["vec", "out"]
transform = { lua = """
ctx.resources.vec:add("a", { 1, 0 })
data.hits = #ctx.resources.vec:search({ 1, 0 }, 1)
ctx.resources.out:write("a.txt", "x")
if data.bad then ctx.resources.vec:add("b", { 1, 0, 0 }) end
""" }
[[networks.main.states.go.arcs]]
to = "gone"
when = { lua = "data.gone == true" }
[[networks.main.states.go.arcs]]
to = "done"
[networks.main.states.gone]
end = true
resources = ["gone"]
[networks.main.states.done]
end = true
)toml",
                                     dir / "counts.toml");
    auto ok = wf.process(Value::object());
    REQUIRE_MESSAGE(ok.ok, (ok.error ? ok.error->message : ""));
    REQUIRE(ok.resources.size() == 2);
    CHECK(ok.resources[0].name == "vec");
    CHECK(ok.resources[0].calls == 2);
    CHECK(ok.resources[1].name == "out");
    CHECK(ok.resources[1].calls == 1);
    auto stats = wf.resource_stats();
    REQUIRE(stats.size() == 3);
    CHECK(stats[0].health == "ok");

    auto bad = wf.process(Value::object({{"bad", true}}));
    REQUIRE_FALSE(bad.ok);
    CHECK(bad.error->name == "DimensionMismatch");
    REQUIRE(bad.resources.size() == 2);
    CHECK(bad.resources[0].errors == 1);
    CHECK(bad.resources[0].health == "degraded");
    stats = wf.resource_stats();
    CHECK(stats[0].calls == 5);
    CHECK(stats[0].errors == 1);
    CHECK(stats[0].health == "degraded");
    CHECK(stats[1].calls == 2);
    CHECK(stats[1].health == "ok");

    auto gone = wf.process(Value::object({{"gone", true}}));
    REQUIRE_FALSE(gone.ok);
    CHECK(wf.resource_stats()[2].health == "down");
}
