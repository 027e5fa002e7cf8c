// Map states: items from a field and from every reader (files, SQLite, a glob, a host's),
// the batcher, tolerance at and one over its boundary, result order, map_in/map_out,
// failures with their reasons, a file sink, history, items overlapping on the network,
// and located load errors.
#include "servers/fake_api.hpp"
#include "temp_dir.hpp"

#include <statenet/statenet.hpp>

#include <SQLiteCpp/SQLiteCpp.h>
#include <doctest/doctest.h>

#include <fstream>
#include <sstream>
#include <string>

using statenet::Engine;
using statenet::LoadError;
using statenet::Result;
using statenet::Value;
using statenet::Workflow;
using statenet_test::TempDir;

namespace {

/// A state `fan` with `map = ` the text given, over the sub-network `item`, which
/// doubles `n` and fails (ValidationFailed) when `n` is negative; then `done`.
std::string workflow(const std::string& map, const std::string& extra = "") {
    return R"(
name = "maps"
)" + extra +
           R"(
[networks.main.states.fan]
start = true
map = )" + map +
           R"(
on_error = [{ errors = ["MapFailed"], to = "gave_up" }]
[[networks.main.states.fan.arcs]]
to = "done"
[networks.main.states.done]
end = true
[networks.main.states.gave_up]
end = true
[networks.item.states.s]
start = true
end = true
validate = [{ lua = "return (data.n or 0) >= 0, 'negative n'" }]
transform = [{ lua = "data.n = (data.n or 0) * 2" }]
)";
}

Result run(const std::string& toml, const std::string& record, const std::filesystem::path& where = "maps.toml") {
    Engine engine;
    return engine.load_string(toml, where).process(Value::from_json(record));
}

std::string write_file(const std::filesystem::path& path, const std::string& text) {
    std::ofstream(path) << text;
    return path.string();
}

std::string numbers(int count, int negative_every = 0) {
    std::string items = "[";
    for (int i = 1; i <= count; ++i)
        items += (i > 1 ? ", " : "") + std::string("{\"n\": ") +
                 std::to_string(negative_every && i % negative_every == 0 ? -i : i) + "}";
    return items + "]";
}

}  // namespace

TEST_CASE("map - items from a field run the sub-network once each; results in item order") {
    auto r = run(workflow(R"({ network = "item", items = "order.lines" })"),
                 R"({"order": {"lines": [{"n": 1}, {"n": 2}, {"n": 3}, 7]}})");
    REQUIRE_MESSAGE(r.ok, (r.error ? r.error->message : ""));
    CHECK(r.final_state == "main/done");
    CHECK(r.data["results"].to_json() == R"([{"n":2},{"n":4},{"n":6},{"n":0,"value":7}])");
    CHECK(r.data["failures"].to_json() == "[]");
    CHECK(r.data["order"]["lines"].size() == 4);  // the items stay as they were
}

TEST_CASE("map - map_in copies parent fields into each item, map_out picks what each result keeps") {
    auto r = run(
        workflow(
            R"({ network = "item", items = "lines", map_in = { rate = "r" }, map_out = { n = "doubled", r = "rate" }, result_path = "out.list" })"),
        R"({"rate": 5, "lines": [{"n": 1, "x": true}, {"n": 4}]})");
    REQUIRE_MESSAGE(r.ok, (r.error ? r.error->message : ""));
    CHECK(r.data["out"]["list"].to_json() == R"([{"doubled":2,"rate":5},{"doubled":8,"rate":5}])");
}

TEST_CASE("map - failed items are collected with index, error and message; null in their result slot") {
    auto r = run(workflow(R"({ network = "item", items = "lines", tolerated_failures = 2 })"),
                 R"({"lines": )" + numbers(6, 3) + "}");
    REQUIRE_MESSAGE(r.ok, (r.error ? r.error->message : ""));
    CHECK(r.final_state == "main/done");
    CHECK(r.data["results"].to_json() == R"([{"n":2},{"n":4},null,{"n":8},{"n":10},null])");
    CHECK(
        r.data["failures"].to_json() ==
        R"([{"error":"ValidationFailed","index":2,"message":"negative n"},{"error":"ValidationFailed","index":5,"message":"negative n"}])");
}

TEST_CASE("map - tolerated_failures: exactly at the count passes, one over fails with MapFailed") {
    const std::string two_bad = R"({"lines": )" + numbers(6, 3) + "}";    // items 3 and 6 fail
    const std::string three_bad = R"({"lines": )" + numbers(9, 3) + "}";  // 3, 6 and 9
    auto at = run(workflow(R"({ network = "item", items = "lines", tolerated_failures = 2 })"), two_bad);
    CHECK(at.final_state == "main/done");
    auto over = run(workflow(R"({ network = "item", items = "lines", tolerated_failures = 2 })"), three_bad);
    CHECK(over.final_state == "main/gave_up");
    CHECK(!over.data.contains("results"));
    auto strict = run(workflow(R"({ network = "item", items = "lines" })"), two_bad);
    CHECK(strict.final_state == "main/gave_up");

    // Without on_error the record fails with the map's error.
    std::string plain = workflow(R"({ network = "item", items = "lines", tolerated_failures = 1 })");
    plain.replace(plain.find("on_error"), plain.find('\n', plain.find("on_error")) - plain.find("on_error"), "");
    auto failed = run(plain, two_bad);
    REQUIRE_FALSE(failed.ok);
    CHECK(failed.error->name == "MapFailed");
    CHECK(failed.error->message ==
          "2 of the first 6 items failed, 1 tolerated; first: item 2: ValidationFailed: negative n");
}

TEST_CASE("map - tolerated_failures as a percentage of all items: at and one over") {
    const std::string map = R"({ network = "item", items = "lines", tolerated_failures = "20%" })";
    CHECK(run(workflow(map), R"({"lines": )" + numbers(10, 5) + "}").final_state == "main/done");     // 2 of 10
    CHECK(run(workflow(map), R"({"lines": )" + numbers(10, 4) + "}").final_state == "main/done");     // 2 of 10
    CHECK(run(workflow(map), R"({"lines": )" + numbers(14, 4) + "}").final_state == "main/gave_up");  // 3 of 14
    CHECK(run(workflow(map), R"({"lines": )" + numbers(15, 5) + "}").final_state == "main/done");     // 3 of 15
}

TEST_CASE("map - a field that is not a list fails the state with MapFailed") {
    std::string plain = workflow(R"({ network = "item", items = "lines" })");
    plain.replace(plain.find("on_error"), plain.find('\n', plain.find("on_error")) - plain.find("on_error"), "");
    auto r = run(plain, R"({"lines": 3})");
    REQUIRE_FALSE(r.ok);
    CHECK(r.error->name == "MapFailed");
    CHECK(r.error->message == "the items field 'lines' holds integer, not a list");
}

TEST_CASE("map - the batcher hands the sub-network data.items by count and by bytes") {
    const std::string batcher = R"(
[networks.batch.states.s]
start = true
end = true
transform = [{ lua = "data.count = #data.items; data.first = data.items[1].n" }]
)";
    auto by_count = run(workflow(R"({ network = "batch", items = "lines", batch = { max_items = 3 } })") + batcher,
                        R"({"lines": )" + numbers(7) + "}");
    REQUIRE_MESSAGE(by_count.ok, (by_count.error ? by_count.error->message : ""));
    CHECK(by_count.data["results"].size() == 3);
    CHECK(by_count.data["results"][0]["count"] == Value(3));
    CHECK(by_count.data["results"][1]["first"] == Value(4));
    CHECK(by_count.data["results"][2]["count"] == Value(1));
    // Each {"n":N} is 7 bytes of JSON: 20 bytes hold two.
    auto by_bytes = run(workflow(R"({ network = "batch", items = "lines", batch = { max_bytes = 20 } })") + batcher,
                        R"({"lines": )" + numbers(5) + "}");
    REQUIRE(by_bytes.ok);
    CHECK(by_bytes.data["results"].size() == 3);
    CHECK(by_bytes.data["results"][2]["count"] == Value(1));
}

TEST_CASE("map - readers: JSONL, CSV and JSON array files, a SQLite query and a glob of files") {
    TempDir dir("statenet_map_test");
    write_file(dir / "items.jsonl", "{\"n\": 1}\n{\"n\": 2}\n\n{\"n\": 3}\n");
    write_file(dir / "items.csv", "n,name\n1,a\n2,b\n");
    write_file(dir / "items.json", "[{\"n\": 5}, {\"n\": 6}]");
    {
        SQLite::Database db((dir / "items.db").string(), SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
        db.exec("CREATE TABLE t (n INTEGER); INSERT INTO t VALUES (7), (8), (9)");
    }
    for (const char* name : {"b.txt", "a.txt", "c.log"}) write_file(dir / name, "x");
    auto results = [&](const std::string& reader, const std::string& extra = "") {
        auto r = run(workflow("{ network = \"item\", reader = " + reader + " }", extra), "{}", dir / "maps.toml");
        REQUIRE_MESSAGE(r.ok, (r.error ? r.error->message : ""));
        return r.data["results"].to_json();
    };
    CHECK(results(R"({ type = "jsonl", path = "items.jsonl" })") == R"([{"n":2},{"n":4},{"n":6}])");
    CHECK(results(R"({ type = "csv", path = "items.csv" })") == R"([{"n":2,"name":"a"},{"n":4,"name":"b"}])");
    CHECK(results(R"({ type = "json", path = "items.json" })") == R"([{"n":10},{"n":12}])");
    CHECK(results(R"({ type = "sqlite", resource = "db", query = "select n from t order by n" })",
                  "[resources.db]\ntype = \"sqlite\"\npath = \"items.db\"\n") == R"([{"n":14},{"n":16},{"n":18}])");
    const std::string globbed = results(R"({ type = "glob", pattern = "*.txt" })");
    CHECK(globbed == "[{\"n\":0,\"path\":\"" + (dir / "a.txt").string() + "\"},{\"n\":0,\"path\":\"" +
                         (dir / "b.txt").string() + "\"}]");
}

TEST_CASE("map - a host registers its own item reader by name") {
    struct Countdown final : statenet::ItemReader {
        int left;
        explicit Countdown(int from) : left(from) {}
        std::optional<Value> next() override {
            if (left == 0) return std::nullopt;
            return Value::object({{"n", left--}});
        }
    };
    Engine engine;
    engine.add_item_reader("countdown", [](const Value& params) {
        return std::make_unique<Countdown>(static_cast<int>(params["from"].as_int()));
    });
    CHECK_THROWS_AS(engine.add_item_reader("jsonl", nullptr), std::invalid_argument);
    auto wf =
        engine.load_string(workflow(R"({ network = "item", reader = { type = "countdown", from = 3 } })"), "maps.toml");
    auto r = wf.process(Value::object());
    REQUIRE_MESSAGE(r.ok, (r.error ? r.error->message : ""));
    CHECK(r.data["results"].to_json() == R"([{"n":6},{"n":4},{"n":2}])");

    Engine bare;
    try {
        bare.load_string(workflow(R"({ network = "item", reader = { type = "countdwn", from = 3 } })"), "maps.toml");
        FAIL("loaded");
    } catch (const LoadError& e) {
        CHECK_MESSAGE(
            std::string(e.what()).find("maps.toml:6:36: unknown item reader type 'countdwn'") != std::string::npos,
            std::string(e.what()));
    }
}

TEST_CASE("map - a file sink takes the results in item order; the record gets the counts") {
    TempDir dir("statenet_map_test");
    write_file(dir / "items.jsonl", "{\"n\": 1}\n{\"n\": -2}\n{\"n\": 3}\n");
    auto r = run(
        workflow(
            R"({ network = "item", reader = { type = "jsonl", path = "items.jsonl" }, sink = { path = "out.jsonl" }, map_out = { n = "m" }, tolerated_failures = 1, errors = "bad.jsonl" })"),
        "{}", dir / "maps.toml");
    REQUIRE_MESSAGE(r.ok, (r.error ? r.error->message : ""));
    std::ifstream out(dir / "out.jsonl");
    std::stringstream text;
    text << out.rdbuf();
    CHECK(text.str() == "{\"m\":2}\n{\"m\":6}\n");
    CHECK(r.data["results"].to_json() == R"({"emitted":2,"excluded":0,"failed":1,"resumed":0,"total":3})");
    CHECK(r.data["failures"][0]["index"] == Value(1));
    std::ifstream bad(dir / "bad.jsonl");
    std::string line;
    std::getline(bad, line);
    CHECK(line.find("negative n") != std::string::npos);
}

TEST_CASE("map - items' steps are recorded as children of the map state's step") {
    TempDir dir("statenet_map_test");
    Engine engine;
    statenet::LoadOptions options;
    options.history_db = dir / "h.db";
    auto wf = engine.load_string(workflow(R"({ network = "item", items = "lines" })"), "maps.toml", options);
    REQUIRE(wf.process(Value::from_json(R"({"lines": [{"n": 1}, {"n": 2}]})")).ok);
    wf.flush_history();
    statenet::History history(dir / "h.db");
    auto runs = history.runs();
    REQUIRE(runs.size() == 1);  // the items are not runs of their own
    auto steps = history.steps(runs[0]);
    REQUIRE(steps.size() == 4);
    CHECK(steps[0].qualified() == "main/fan");
    for (int i : {1, 2}) {
        CHECK(steps[i].qualified() == "item/s");
        CHECK(steps[i].parent == steps[0].seq);
        CHECK(steps[i].via == "push");
        CHECK(steps[i].depth == 1);
    }
    CHECK(steps[3].qualified() == "main/done");
}

TEST_CASE("map - items waiting on an http resource overlap, up to max_concurrency, results in item order") {
    setenv("no_proxy", "127.0.0.1", 1);
    statenet_test::FakeApi api;
    api.start();
    auto toml = [&](int concurrency) {
        return workflow(
                   "{ network = \"call\", items = \"lines\", max_concurrency = " + std::to_string(concurrency) + " }",
                   "[resources.api]\ntype = \"http\"\nbase_url = \"" + api.base_url() + "\"\n") +
               R"(
[networks.call.states.s]
start = true
end = true
resources = ["api"]
transform = [{ lua = "data.slept = ctx.resources.api:get('/delay/' .. (200 - 20 * data.n)).json.slept" }]
validate = [{ lua = "return data.n >= 0, 'negative n'" }]
)";
    };
    const std::string record = R"({"lines": )" + numbers(8) + "}";
    auto r = run(toml(4), record);
    REQUIRE_MESSAGE(r.ok, (r.error ? r.error->message : ""));
    CHECK(r.data["results"].size() == 8);
    // Later items wait less and finish first; the results stay in item order.
    for (int i = 0; i < 8; ++i) CHECK(r.data["results"][static_cast<std::size_t>(i)]["slept"] == Value(180 - 20 * i));
    CHECK(api.max_concurrent() == 4);
    api.reset();
    REQUIRE(run(toml(1), record).ok);
    CHECK(api.max_concurrent() == 1);

    // Items in flight that fail past the tolerance: the map stops at the first one over it.
    auto over = run(toml(4), R"({"lines": )" + numbers(8, 2) + "}");
    CHECK(over.final_state == "main/gave_up");
    auto strict = toml(4);
    strict.replace(strict.find("on_error"), strict.find('\n', strict.find("on_error")) - strict.find("on_error"), "");
    auto failed = run(strict, R"({"lines": )" + numbers(8, 2) + "}");
    REQUIRE_FALSE(failed.ok);
    CHECK(failed.error->message ==
          "1 of the first 2 items failed, 0 tolerated; first: item 1: ValidationFailed: negative n");
}

TEST_CASE("map - load errors are located") {
    auto errors = [](const std::string& map) {
        Engine engine;
        try {
            engine.load_string(workflow(map), "maps.toml");
        } catch (const LoadError& e) {
            return std::string(e.what());
        }
        return std::string("loaded");
    };
    CHECK(errors(R"({ items = "x" })").find("maps.toml:6:7: missing required key 'network'") != std::string::npos);
    CHECK(errors(R"({ network = "itm", items = "x" })").find("unknown network 'itm' in map (did you mean 'item'?)") !=
          std::string::npos);
    CHECK(errors(R"({ network = "item" })").find("'map' needs either 'items' (a record field) or 'reader'") !=
          std::string::npos);
    CHECK(errors(R"({ network = "item", items = "x", tolerated_failures = "ten" })")
              .find("'tolerated_failures' must be a count (an integer >= 0) or a percentage (\"10%\")") !=
          std::string::npos);
    CHECK(errors(R"({ network = "item", items = "x", batch = {} })").find("'batch' needs 'max_items' or 'max_bytes'") !=
          std::string::npos);
    CHECK(errors(R"({ network = "item", items = "x", reader = { type = "jsonl", path = "a" } })").find("not both") !=
          std::string::npos);
}

TEST_CASE("map - items are part of the record's run; machines refuse map states") {
    auto r = run(workflow(R"({ network = "ids", items = "lines" })") + R"(
[networks.ids.states.s]
start = true
end = true
transform = [{ lua = "data.run = ctx.run_id" }]
)",
                 R"({"lines": [{}, {}]})");
    REQUIRE(r.ok);
    CHECK(r.data["results"][1]["run"].as_string() == r.run_id);

    TempDir dir("statenet_map_test");
    write_file(dir / "wf.toml", workflow(R"({ network = "item", items = "lines" })"));
    Engine engine;
    try {
        statenet::Machines machines(engine, dir / "wf.toml");
        FAIL("opened");
    } catch (const LoadError& e) {
        CHECK(std::string(e.what()).find(":6:7: 'map' (state 'main/fan') is not supported by machines yet") !=
              std::string::npos);
    }
}
