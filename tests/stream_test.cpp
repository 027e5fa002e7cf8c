// Workflow::process_stream through the public API: sources, sinks, ordering, accounting, resume.
#include "test_paths.hpp"

#include <statenet/statenet.hpp>

#include <doctest/doctest.h>

#include <algorithm>

#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

using namespace statenet;

namespace {

using statenet_test::cli_dir;

/// A fresh scratch directory per test.
std::filesystem::path scratch(const char* name) {
    auto dir = statenet_test::scratch_root("statenet_stream_test") / name;
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    return dir;
}

void write_file(const std::filesystem::path& path, const std::string& text) {
    std::ofstream(path, std::ios::binary) << text;
}

std::string read_file(const std::filesystem::path& path) {
    std::ifstream file(path, std::ios::binary);
    std::ostringstream text;
    text << file.rdbuf();
    return text.str();
}

std::vector<std::string> lines_of(const std::string& text) {
    std::vector<std::string> lines;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) lines.push_back(line);
    return lines;
}

/// 1..n as JSONL records; every 4th has a negative amount (fails), every 5th is a draft (excluded).
std::string numbered_records(int n) {
    std::string text;
    for (int i = 1; i <= n; ++i) {
        const int amount = i % 4 == 0 ? -i : i % 50;
        text += "{\"id\": " + std::to_string(i) + ", \"amount\": " + std::to_string(amount) +
                (i % 5 == 0 && i % 4 != 0 ? ", \"draft\": true" : "") + "}\n";
    }
    return text;
}

}  // namespace

TEST_CASE("stream - JSONL through several workers keeps input order and accounts for every record") {
    const auto dir = scratch("jsonl");
    write_file(dir / "in.jsonl", numbered_records(2000) + "not json\n");
    Engine engine;
    const Workflow wf = engine.load(cli_dir / "pipeline.toml");

    std::vector<std::uint64_t> failed_lines;
    StreamOptions options;
    options.workers = 3;
    options.errors = (dir / "errors.jsonl").string();
    options.on_failure = [&](std::uint64_t line, const ErrorInfo&) { failed_lines.push_back(line); };
    const StreamStats stats =
        wf.process_stream(jsonl_source((dir / "in.jsonl").string()), jsonl_sink((dir / "out.jsonl").string()), options);

    CHECK(stats.total == 2001);
    CHECK(stats.failed == 501);    // 500 negative amounts and the line that is not JSON
    CHECK(stats.excluded == 300);  // drafts that are not also negative
    CHECK(stats.emitted == 1200);
    CHECK(stats.total == stats.emitted + stats.excluded + stats.failed);
    CHECK(stats.resumed == 0);

    const auto out = lines_of(read_file(dir / "out.jsonl"));
    REQUIRE(out.size() == 1200);
    CHECK(out.front().starts_with("{\"id\":1,"));
    CHECK(out.back().starts_with("{\"id\":1999,"));
    REQUIRE(failed_lines.size() == 501);
    CHECK(failed_lines.front() == 4);
    CHECK(failed_lines.back() == 2001);
    CHECK(std::is_sorted(failed_lines.begin(), failed_lines.end()));
    const auto errors = lines_of(read_file(dir / "errors.jsonl"));
    REQUIRE(errors.size() == 501);
    CHECK(errors.back().starts_with("{\"line\":2001,\"error\":{\"name\":\"InvalidJson\""));
}

TEST_CASE("stream - batches that finish before their turn wait and are written in input order") {
    // The first 40 records take long, so the other workers finish later batches first:
    // those are parked and written after the slow one, each exactly once.
    const auto dir = scratch("parked");
    std::string input;
    for (int i = 1; i <= 3000; ++i) input += "{\"id\": " + std::to_string(i) + "}\n";
    write_file(dir / "in.jsonl", input);
    Engine engine;
    const Workflow wf = engine.load_string(R"(
name = "slow-start"
[networks.main.states.work]
start = true
end = true
transform = [{ lua = """
  local spin = 0
  if data.id <= 40 then for i = 1, 2000000 do spin = (spin + i) % 1000003 end end
  data.spin = spin
""" }]
)",
                                           "slow-start.toml");
    for (unsigned workers : {2u, 3u}) {
        CAPTURE(workers);
        StreamOptions options;
        options.workers = workers;
        const auto stats = wf.process_stream(jsonl_source((dir / "in.jsonl").string()),
                                             jsonl_sink((dir / "out.jsonl").string()), options);
        CHECK(stats.emitted == 3000);
        const auto out = lines_of(read_file(dir / "out.jsonl"));
        REQUIRE(out.size() == 3000);
        bool in_order = true;
        for (std::size_t i = 0; i < out.size(); ++i)
            in_order = in_order && Value::from_json(out[i])["id"] == Value(static_cast<std::int64_t>(i + 1));
        CHECK(in_order);
    }
}

TEST_CASE("stream - unordered output holds the same records as ordered output") {
    const auto dir = scratch("unordered");
    write_file(dir / "in.jsonl", numbered_records(1500));
    Engine engine;
    const Workflow wf = engine.load(cli_dir / "pipeline.toml");
    StreamOptions options;
    options.workers = 2;
    const auto ordered =
        wf.process_stream(jsonl_source((dir / "in.jsonl").string()), jsonl_sink((dir / "a.jsonl").string()), options);
    options.ordered = false;
    const auto unordered =
        wf.process_stream(jsonl_source((dir / "in.jsonl").string()), jsonl_sink((dir / "b.jsonl").string()), options);
    CHECK(unordered.emitted == ordered.emitted);
    CHECK(unordered.failed == ordered.failed);
    auto a = lines_of(read_file(dir / "a.jsonl"));
    auto b = lines_of(read_file(dir / "b.jsonl"));
    std::sort(a.begin(), a.end());
    std::sort(b.begin(), b.end());
    CHECK(a == b);
}

TEST_CASE("stream - CSV in, JSON array and text out, null sink") {
    const auto dir = scratch("formats");
    write_file(dir / "in.csv", "id,amount,note\n1,10,\"a, \"\"quoted\"\"\nnote\"\n2,x\n3,5,\n");
    Engine engine;
    const Workflow wf = engine.load(cli_dir / "scribble.toml");

    const auto stats = wf.process_stream(csv_source((dir / "in.csv").string()), json_sink((dir / "out.json").string()));
    CHECK(stats.total == 3);
    CHECK(stats.emitted == 2);
    CHECK(stats.failed == 1);
    const Value array = Value::from_json(read_file(dir / "out.json"));
    REQUIRE(array.size() == 2);
    CHECK(array[0] == Value::from_json(R"({"id":1,"amount":10,"note":"a, \"quoted\"\nnote"})"));
    CHECK(array[1]["note"].is_null());

    wf.process_stream(text_source((dir / "in.csv").string(), "row"), text_sink((dir / "out.txt").string(), "row"));
    CHECK(read_file(dir / "out.txt") == read_file(dir / "in.csv"));

    const auto counted = wf.process_stream(csv_source((dir / "in.csv").string()), null_sink());
    CHECK(counted.emitted == 2);
}

TEST_CASE("stream - SQLite table sink upserts by key and SQLite query source reads it back") {
    const auto dir = scratch("sqlite");
    write_file(dir / "in.jsonl",
               "{\"id\": 1, \"amount\": 10}\n{\"id\": 2, \"amount\": 20}\n{\"id\": 1, \"amount\": 30}\n");
    Engine engine;
    const Workflow wf = engine.load(cli_dir / "pipeline.toml");
    const auto db = (dir / "out.db").string();
    const auto stats = wf.process_stream(jsonl_source((dir / "in.jsonl").string()), sqlite_sink(db, "orders", "id"));
    CHECK(stats.emitted == 3);

    const auto read = wf.process_stream(sqlite_source(db, "SELECT id, amount FROM orders ORDER BY id"),
                                        jsonl_sink((dir / "rows.jsonl").string()));
    CHECK(read.total == 2);
    CHECK(read_file(dir / "rows.jsonl") ==
          "{\"id\":1,\"amount\":30,\"factor_type\":\"number\",\"label\":\"default\",\"scaled\":60}\n"
          "{\"id\":2,\"amount\":20,\"factor_type\":\"number\",\"label\":\"default\",\"scaled\":40}\n");
}

TEST_CASE("stream - resume cuts the output back to the checkpoint and continues after it") {
    const auto dir = scratch("resume");
    const auto in = (dir / "in.jsonl").string();
    const auto out = (dir / "out.jsonl").string();
    Engine engine;
    const Workflow wf = engine.load(cli_dir / "pipeline.toml");
    write_file(in, numbered_records(3000));
    wf.process_stream(jsonl_source(in), jsonl_sink((dir / "expected.jsonl").string()));

    // A first run over the first 1000 records, as if the input ended there...
    write_file(in, numbered_records(1000));
    StreamOptions options;
    options.resume = true;
    options.batch_size = 100;
    const auto first = wf.process_stream(jsonl_source(in), jsonl_sink(out), options);
    CHECK(first.total == 1000);
    // ...then the process "died" after writing more than it committed.
    std::string checkpoint = read_file(out + ".checkpoint");
    REQUIRE(checkpoint.find("\"done\":true") != std::string::npos);
    checkpoint.replace(checkpoint.find("\"done\":true"), 11, "\"done\":false");
    write_file(out + ".checkpoint", checkpoint);
    write_file(in, numbered_records(3000));
    std::ofstream(out, std::ios::app) << "{\"uncommitted\":true}\n";

    const auto second = wf.process_stream(jsonl_source(in), jsonl_sink(out), options);
    CHECK(second.resumed == 1000);
    CHECK(second.total == 3000);
    CHECK(second.total == second.emitted + second.excluded + second.failed);
    CHECK(read_file(out) == read_file(dir / "expected.jsonl"));

    // A finished run resumes to nothing.
    const auto third = wf.process_stream(jsonl_source(in), jsonl_sink(out), options);
    CHECK(third.resumed == 3000);
    CHECK(read_file(out) == read_file(dir / "expected.jsonl"));
}

TEST_CASE("stream - resume continues CSV and JSON array sources after the checkpoint") {
    const auto dir = scratch("resume_formats");
    Engine engine;
    const Workflow wf = engine.load(cli_dir / "pipeline.toml");
    // Inputs of 20 and of 50 records that agree up to the end of the 20th record.
    auto csv = [](int n) {
        std::string text = "id,amount\n";
        for (int i = 1; i <= n; ++i) text += std::to_string(i) + "," + std::to_string(i) + "\n";
        return text;
    };
    auto json = [](int n) {
        std::string text = "[";
        for (int i = 1; i <= n; ++i)
            text += (i > 1 ? ",\n" : "") + std::string("{\"id\": ") + std::to_string(i) + ", \"amount\": 1}";
        return text + "\n]\n";
    };
    for (const auto& [name, make] : {std::pair{"in.csv", std::function<std::string(int)>(csv)},
                                     std::pair{"in.json", std::function<std::string(int)>(json)}}) {
        CAPTURE(name);
        const auto in = (dir / name).string();
        const auto out = (dir / (std::string(name) + ".out.jsonl")).string();
        write_file(in, make(50));
        wf.process_stream(file_source(in), jsonl_sink(out + ".expected"));
        write_file(in, make(20));
        StreamOptions options;
        options.resume = true;
        options.batch_size = 7;
        wf.process_stream(file_source(in), jsonl_sink(out), options);
        std::string checkpoint = read_file(out + ".checkpoint");
        checkpoint.replace(checkpoint.find("\"done\":true"), 11, "\"done\":false");
        write_file(out + ".checkpoint", checkpoint);
        write_file(in, make(50));
        const auto stats = wf.process_stream(file_source(in), jsonl_sink(out), options);
        CHECK(stats.resumed == 20);
        CHECK(stats.total == 50);
        CHECK(read_file(out) == read_file(out + ".expected"));
    }
}

TEST_CASE("stream - unusable sources, sinks and options are refused before any record runs") {
    const auto dir = scratch("refused");
    Engine engine;
    const Workflow wf = engine.load(cli_dir / "pipeline.toml");
    CHECK_THROWS_AS(wf.process_stream(jsonl_source((dir / "missing.jsonl").string()), null_sink()),
                    std::invalid_argument);
    write_file(dir / "in.jsonl", "{\"id\": 1, \"amount\": 1}\n");
    StreamOptions options;
    options.resume = true;
    options.ordered = false;
    CHECK_THROWS_AS(
        wf.process_stream(jsonl_source((dir / "in.jsonl").string()), jsonl_sink((dir / "o.jsonl").string()), options),
        std::invalid_argument);
    options.ordered = true;
    CHECK_THROWS_AS(wf.process_stream(jsonl_source((dir / "in.jsonl").string()), jsonl_sink("-"), options),
                    std::invalid_argument);
    CHECK_THROWS_AS(
        wf.process_stream(jsonl_source((dir / "in.jsonl").string()), sqlite_sink((dir / "x.db").string(), "")),
        std::invalid_argument);
    CHECK(parse_record_format("csv") == RecordFormat::csv);
    CHECK(parse_record_format("xml") == RecordFormat::xml);
    CHECK_FALSE(parse_record_format("yaml"));
    // XML is read, never written.
    CHECK_THROWS_AS(wf.process_stream(jsonl_source((dir / "in.jsonl").string()), file_sink((dir / "o.xml").string())),
                    std::invalid_argument);
}

TEST_CASE("stream - ctx.run_id is each record's own UUID, made when a function reads it") {
    const auto dir = scratch("run_id");
    write_file(dir / "in.jsonl", "{\"n\": 1}\n{\"n\": 2}\n{\"n\": 3}\n");
    Engine engine;
    const Workflow wf = engine.load_string(R"(
name = "ids"
[networks.main.states.only]
start = true
end = true
transform = { lua = "data.id = ctx.run_id; data.same = ctx.run_id == data.id" }
)",
                                           dir / "ids.toml");
    const StreamStats stats =
        wf.process_stream(jsonl_source((dir / "in.jsonl").string()), jsonl_sink((dir / "out.jsonl").string()), {});
    REQUIRE(stats.emitted == 3);
    std::vector<std::string> ids;
    for (const auto& line : lines_of(read_file(dir / "out.jsonl"))) {
        const Value record = Value::from_json(line);
        CHECK(record["same"].as_bool());
        const std::string id = record["id"].as_string();
        REQUIRE(id.size() == 36);
        CHECK(id[14] == '4');
        ids.push_back(id);
    }
    REQUIRE(ids.size() == 3);
    CHECK(ids[0] != ids[1]);
    CHECK(ids[1] != ids[2]);

    // Through process_json the Result carries the id the function saw.
    std::string out;
    const Result r = wf.process_json(R"({"n": 4})", out);
    REQUIRE(r.ok);
    CHECK(Value::from_json(out)["id"].as_string() == r.run_id);
    CHECK(r.path == std::vector<std::string>{"main/only"});
}
