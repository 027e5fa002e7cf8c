// Parallel branches that wait on the network overlap on the record's worker (each on a
// runner of its own, in flight together): asserted by what the HTTP server saw at once,
// with copy-mode rollback, `any` cancelling the rest, and records in flight in a stream.
#include "servers/fake_api.hpp"
#include "temp_dir.hpp"

#include <statenet/statenet.hpp>

#include <doctest/doctest.h>

#include <fstream>
#include <sstream>
#include <string>

using statenet::Engine;
using statenet::Value;

namespace {

statenet_test::FakeApi& api() {
    setenv("no_proxy", "127.0.0.1", 1);
    static statenet_test::FakeApi server;
    static const int port = server.start();
    (void)port;
    return server;
}

/// `fan` runs `parallel` over: `fast` (one 50 ms call), `slow` (a 300 ms call, then a
/// second state that calls /items/1), `bad` (a 100 ms call, then fails validation).
std::string workflow(const std::string& parallel) {
    return R"toml(
name = "overlap"
[resources.api]
type = "http"
base_url = ")toml" +
           api().base_url() +
           R"toml("
[networks.main.states.fan]
start = true
transform = [{ lua = "data.base = true" }]
parallel = )toml" +
           parallel +
           R"toml(
[[networks.main.states.fan.arcs]]
to = "done"
[networks.main.states.done]
end = true
[networks.fast.states.s]
start = true
end = true
transform = [{ lua = "data.slept = ctx.resources.api:get('/delay/50').json.slept; data.run = ctx.run_id" }]
[networks.slow.states.s1]
start = true
transform = [{ lua = "data.slept = ctx.resources.api:get('/delay/300').json.slept" }]
[[networks.slow.states.s1.arcs]]
to = "s2"
[networks.slow.states.s2]
end = true
transform = [{ lua = "data.item = ctx.resources.api:get('/items/1').json.name" }]
[networks.bad.states.s]
start = true
end = true
transform = [{ lua = "ctx.resources.api:get('/delay/100')" }]
validate = [{ lua = "return false, 'bad branch'" }]
)toml";
}

}  // namespace

TEST_CASE("parallel overlap - branches waiting on http run at once; all joins every record") {
    Engine engine;
    auto wf = engine.load_string(workflow(R"({ branches = ["fast", "slow"] })"), "overlap.toml");
    api().reset();
    auto r = wf.process(Value::object());
    REQUIRE_MESSAGE(r.ok, (r.error ? r.error->message : ""));
    CHECK(api().max_concurrent() == 2);
    CHECK(r.data["fast"]["slept"] == Value(50));
    CHECK(r.data["fast"]["base"] == Value(true));
    CHECK(r.data["fast"]["run"].as_string() == r.run_id);  // a branch is part of the record's run
    CHECK(r.data["slow"]["item"] == Value("item-1"));
    CHECK(r.path == std::vector<std::string>{"main/fan", "fast/s", "slow/s1", "slow/s2", "main/done"});
}

TEST_CASE("parallel overlap - all: a failing branch fails the state and nothing reaches the record") {
    Engine engine;
    auto wf = engine.load_string(workflow(R"({ branches = ["fast", "bad", "slow"] })"), "overlap.toml");
    api().reset();
    auto r = wf.process(Value::from_json(R"({"x": 1})"));
    REQUIRE_FALSE(r.ok);
    CHECK(api().max_concurrent() == 3);
    CHECK(r.error->name == "ValidationFailed");
    CHECK(r.error->message == "branch 'bad': bad branch");
    CHECK(r.data.to_json() == R"({"x":1,"base":true})");
    // The failure cancelled `slow` at its next step: /items/1 was never asked for.
    CHECK(api().requests() == 3);
}

TEST_CASE("parallel overlap - any: the first branch to finish is joined, the rest are cancelled") {
    Engine engine;
    auto wf = engine.load_string(workflow(R"({ branches = ["slow", "fast"], join = "any" })"), "overlap.toml");
    api().reset();
    auto r = wf.process(Value::object());
    REQUIRE_MESSAGE(r.ok, (r.error ? r.error->message : ""));
    CHECK(api().max_concurrent() == 2);
    CHECK(r.data.contains("fast"));
    CHECK_FALSE(r.data.contains("slow"));
    CHECK(api().requests() == 2);  // slow's second state never ran
}

TEST_CASE("parallel overlap - records in flight in a stream overlap their branches too") {
    statenet_test::TempDir dir("statenet_overlap_test");
    std::ofstream(dir / "in.jsonl") << "{\"id\": 1}\n{\"id\": 2}\n{\"id\": 3}\n";
    Engine engine;
    auto wf = engine.load_string(workflow(R"({ branches = ["fast", "slow"] })"), "overlap.toml");
    api().reset();
    statenet::StreamOptions options;
    options.in_flight = 3;
    auto stats = wf.process_stream(statenet::jsonl_source((dir / "in.jsonl").string()),
                                   statenet::jsonl_sink((dir / "out.jsonl").string()), options);
    CHECK(stats.emitted == 3);
    CHECK(api().max_concurrent() == 6);
    std::ifstream out(dir / "out.jsonl");
    std::string first;
    std::getline(out, first);
    CHECK(Value::from_json(first)["slow"]["item"] == Value("item-1"));
}

TEST_CASE("parallel overlap - overlapping branches' steps are children of the parallel state's step") {
    statenet_test::TempDir dir("statenet_overlap_test");
    Engine engine;
    statenet::LoadOptions options;
    options.history_db = dir / "h.db";
    auto wf = engine.load_string(workflow(R"({ branches = ["slow", "fast"] })"), "overlap.toml", options);
    REQUIRE(wf.process(Value::object()).ok);
    wf.flush_history();
    statenet::History history(dir / "h.db");
    auto runs = history.runs();
    REQUIRE(runs.size() == 1);
    std::vector<std::string> lines;
    for (const auto& s : history.steps(runs[0]))
        lines.push_back(std::to_string(s.seq) + " " + s.qualified() + " " + s.via + " parent " +
                        (s.parent ? std::to_string(*s.parent) : "-") + " depth " + std::to_string(s.depth) + " " +
                        s.status);
    // slow/s1 starts first; fast/s finishes while slow waits; slow/s2 follows slow/s1.
    CHECK(lines == std::vector<std::string>{"1 main/fan start parent - depth 0 ok",
                                            "2 slow/s1 push parent 1 depth 1 ok", "3 fast/s push parent 1 depth 1 end",
                                            "4 slow/s2 arc parent 2 depth 1 end",
                                            "5 main/done arc parent 1 depth 0 end"});
}
