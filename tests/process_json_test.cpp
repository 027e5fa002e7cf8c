// Workflow::process_json: the JSON-text fast path gives the same records as process().
#include "test_paths.hpp"

#include <statenet/statenet.hpp>

#include <doctest/doctest.h>

#include <string>
#include <vector>

using statenet::Engine;
using statenet::JsonError;
using statenet::Result;
using statenet::RunOptions;
using statenet::Value;
using statenet::Workflow;

namespace {

using statenet_test::exec_dir;

const char* edit_workflow = R"(name = "edit"
[networks.main.states.edit]
start = true
end = true
transform = "edit.edit"
)";

// Lines that stress the raw copy of untouched fields: escapes, brackets inside strings,
// odd whitespace, empty containers, unicode escapes, exponents, nulls.
const std::vector<std::string> tricky = {
    R"({"a": 1, "s": "he said \"hi\" \\", "n": {"x": [1, {"y": "}]"}], "w": "x"}, "d": true, "u": "\u00e9\n", "e": 1e2, "nul": null})",
    R"(  { "a" : 2 , "arr" : [ ] , "obj" : { } , "t" : "\\" }  )",
    R"({"k\"q":"v","a":-0.5,"list":[[],[{}],"]"],"last":false})",
    R"({})",
    R"({"d":1})",
    // Read by the functions: a literal, a nested object (decoded through the DOM on
    // demand), an escaped key (the whole record goes the DOM way), the deepest nesting
    // a record may have.
    R"({"a":3,"fail":false,"n":{"x":"\u00e9","y":[1,2]},"s":"tab\there"})",
    R"({"k\u0041":1,"a":2.5e1,"n":{"x":0}})",
    R"({"a":-42})",
    R"({"a":-0})",
    R"({"a":123456789012345})",
    R"({"a":9007199254740993})",
    R"({"a": 5, "fail": true, "n": {"x": [1, 2.50]}})",  // fails: its data as it came
    R"({"a":1.7976931348623157e308})",
    "{\"a\":1,\"deep\":" + std::string(statenet::max_nesting_depth - 1, '[') +
        std::string(statenet::max_nesting_depth - 1, ']') + "}",
};

void same_as_process(const Workflow& wf, const std::string& line, const RunOptions& options = {}) {
    CAPTURE(line);
    std::string out;
    Result fast = wf.process_json(line, out, options);
    Result slow = wf.process(Value::from_json(line), options);
    REQUIRE(fast.ok == slow.ok);
    CHECK(fast.final_state == slow.final_state);
    CHECK(fast.path == slow.path);
    CHECK(fast.data.is_null());
    if (slow.ok) CHECK(Value::from_json(out) == slow.data);
    else CHECK(out.empty());

    // JsonData::always: every record's data, as process() leaves it in Result::data;
    // Result::to_json around it is to_value()'s shape (what statenet_process returns).
    std::string all;
    Result always = wf.process_json(line, all, options, statenet::JsonData::always);
    CHECK(Value::from_json(all) == slow.data);
    if (line.find("deep") != std::string::npos) return;  // one level deeper inside the result: beyond the limit
    Value text = Value::from_json(always.to_json(all));
    Value value = slow.to_value();
    for (Value* v : {&text, &value}) {
        v->set("run_id", Value(""));
        v->set("duration_us", Value(0.0));
    }
    CHECK(text == value);
}

}  // namespace

TEST_CASE("process_json - the same records as process(), in copy and direct mode") {
    Engine engine;
    Workflow wf = engine.load_string(edit_workflow, exec_dir / "edit.toml");
    for (const auto& line : tricky) {
        same_as_process(wf, line);
        same_as_process(wf, line, {statenet::DataMode::direct});
    }
}

TEST_CASE("process_json - a direct-mode state sees a plain table with every field") {
    Engine engine;
    Workflow wf = engine.load_string(R"wf(name = "raw"
data_mode = "direct"
[networks.main.states.count]
start = true
end = true
transform = { lua = "local n = 0; for _ in next, data do n = n + 1 end; data.n = n; data.raw = rawget(data, 'b')" }
)wf",
                                     exec_dir / "raw.toml");
    std::string out;
    REQUIRE(wf.process_json(R"({"a": 1, "b": "x", "c": null})", out).ok);
    // As process(): a direct-mode record is read back whole, and Lua has no null field.
    CHECK(Value::from_json(out) == Value::from_json(R"({"a": 1, "b": "x", "n": 2, "raw": "x"})"));
}

TEST_CASE("process_json - untouched fields are copied as they came, changed ones rewritten") {
    Engine engine;
    Workflow wf = engine.load_string(edit_workflow, exec_dir / "edit.toml");
    std::string out;
    REQUIRE(wf.process_json(R"({"a": 1, "keep": {"x" : 1.50}, "d": 0})", out).ok);
    CHECK(out == R"({"a":2,"keep":{"x" : 1.50},"b2":[1,2],"z":"added"})");

    // Compact input: the runs of untouched fields around a removed first field and a
    // changed one are copied as they are, a spaced field as its two tokens.
    REQUIRE(wf.process_json(R"({"d":0,"p":1,"q":"x,y","a":7,"r":[1, 2],"s" :  true,"t":{}})", out).ok);
    CHECK(out == R"({"p":1,"q":"x,y","a":8,"r":[1, 2],"s":true,"t":{},"b2":[1,2],"z":"added"})");
    REQUIRE(wf.process_json(R"({ "a":1 , "d":2 })", out).ok);
    CHECK(out == R"({"a":2,"b2":[1,2],"z":"added"})");
}

TEST_CASE("process_json - failures, non-objects, duplicate keys, big integers and bad JSON") {
    Engine engine;
    Workflow wf = engine.load_string(edit_workflow, exec_dir / "edit.toml");
    std::string out = "stale";
    Result failed = wf.process_json(R"({"fail": true})", out);
    REQUIRE(!failed.ok);
    CHECK(failed.error->name == "LuaError");
    CHECK(out.empty());
    REQUIRE(!wf.process_json(R"({"fail": true, "x" : 1.50})", out, {}, statenet::JsonData::always).ok);
    CHECK(out == R"({"fail":true,"x":1.50})");
    CHECK(failed.to_json("").find(R"({"ok":false,"final_state":"main/edit","data":null,"path":["main/edit"],)") == 0);

    Result array = wf.process_json("[1, 2]", out);
    REQUIRE(!array.ok);
    CHECK(array.error->name == "SchemaViolation");

    // Duplicate keys: the last value wins at the first key's place, as Value::from_json.
    REQUIRE(wf.process_json(R"({"a": 1, "a": 5})", out).ok);
    CHECK(Value::from_json(out)["a"].as_int() == 6);

    REQUIRE(wf.process_json(R"({"big": 123456789012345678901234567890})", out).ok);
    CHECK(Value::from_json(out)["big"].is_number());

    CHECK_THROWS_AS(wf.process_json(R"({"a": 1,})", out), JsonError);
    // One level deeper than a record may nest is refused where it is parsed, whether
    // or not a function reads the deep field.
    const std::string too_deep = "{\"a\":1,\"deep\":" + std::string(statenet::max_nesting_depth, '[') +
                                 std::string(statenet::max_nesting_depth, ']') + "}";
    CHECK_THROWS_WITH_AS(wf.process_json(too_deep, out), "invalid JSON at byte 141: nested deeper than 128 levels",
                         JsonError);
}
