// Sub-networks (push arcs, isolation, the depth limit), breadth-first branches and the
// data modes' rollback, through the public API (SPEC sections 5 and 6).
#include "exec_helpers.hpp"

#include <doctest/doctest.h>

#include <string>

using exec_test::load;
using exec_test::Path;
using exec_test::run;
using statenet::Engine;
using statenet::Result;
using statenet::Value;
using statenet::Workflow;

const char* push_workflow = R"(
name = "push"
[networks.main.states.start]
start = true
[[networks.main.states.start.arcs]]
push = "child"
return_to = "after"
map_in = { amount = "input" }
map_out = { child_value = "result" }
[networks.main.states.after]
end = true
transform = "steps.add_a"

[networks.child.states.work]
start = true
transform = "steps.child_work"
[[networks.child.states.work.arcs]]
to = "done"
[networks.child.states.done]
end = true
)";

TEST_CASE("exec - push and pop with return_to and map_in/map_out under copy isolation") {
    Result r = run(push_workflow, R"({"amount": 21, "keep": "me"})");
    REQUIRE(r.ok);
    CHECK(r.final_state == "main/after");
    CHECK(r.path == Path{"main/start", "child/work", "child/done", "main/after"});
    // The parent changes only through map_out.
    CHECK(r.data == Value::from_json(R"({"amount": 21, "keep": "me", "result": 42, "trail": "a"})"));
}

TEST_CASE("exec - copy isolation without maps merges the child's fields back") {
    Result r = run(R"(
name = "merge"
[networks.main.states.start]
start = true
[[networks.main.states.start.arcs]]
push = "child"
[networks.child.states.work]
start = true
end = true
transform = "steps.child_work"
)",
                   R"({"input": 5})");
    REQUIRE(r.ok);
    // Without return_to the record finishes in the sub-network's end state.
    CHECK(r.final_state == "child/work");
    CHECK(r.data["child_value"].as_int() == 10);
    CHECK(r.data["secret"].as_string() == "child-only");
}

TEST_CASE("exec - push to net:state enters that state") {
    Result r = run(R"(
name = "entry"
[networks.main.states.start]
start = true
[[networks.main.states.start.arcs]]
push = "child:second"
return_to = "done"
[networks.main.states.done]
end = true
[networks.child.states.first]
start = true
transform = "steps.add_a"
[[networks.child.states.first.arcs]]
to = "second"
[networks.child.states.second]
end = true
transform = "steps.add_b"
)",
                   "{}");
    REQUIRE(r.ok);
    CHECK(r.path == Path{"main/start", "child/second", "main/done"});
    CHECK(r.data["trail"].as_string() == "b");
}

TEST_CASE("exec - share isolation lets the sub-network mutate the parent") {
    Result r = run(R"(
name = "share"
[networks.main.states.start]
start = true
[[networks.main.states.start.arcs]]
push = "child"
isolation = "share"
return_to = "done"
[networks.main.states.done]
end = true
[networks.child.states.work]
start = true
end = true
transform = ["steps.child_work", "steps.delete_id"]
)",
                   R"({"input": 2, "id": 9})");
    REQUIRE(r.ok);
    CHECK(r.data == Value::from_json(R"({"input": 2, "child_value": 4, "secret": "child-only"})"));
}

TEST_CASE("exec - a sub-network that pushes itself forever fails at the depth limit") {
    Result r = run(R"(
name = "recursive"
[networks.main.states.start]
start = true
[[networks.main.states.start.arcs]]
push = "again"
[networks.again.states.enter]
start = true
[[networks.again.states.enter.arcs]]
push = "again"
)",
                   "{}");
    REQUIRE(!r.ok);
    CHECK(r.error->name == "PushFailed");
    CHECK(r.error->message.find("16") != std::string::npos);
    CHECK(r.path.size() == 17);
}

TEST_CASE("exec - a failure inside a sub-network propagates to the pushing state") {
    const char* wf = R"(
name = "propagate"
[networks.main.states.start]
start = true
transform = "steps.add_a"
%s
[[networks.main.states.start.arcs]]
push = "child"
return_to = "done"
[networks.main.states.done]
end = true
[networks.main.states.failed]
end = true
transform = "steps.record_error"
[networks.child.states.work]
start = true
end = true
transform = ["steps.add_b", "steps.boom"]
)";
    auto with = [&](const char* extra) {
        std::string text(wf);
        text.replace(text.find("%s"), 2, extra);
        return run(text, "{}");
    };
    Result failed = with("");
    REQUIRE(!failed.ok);
    CHECK(failed.error->name == "LuaError");
    CHECK(failed.error->state == "child/work");

    Result caught = with(R"(on_error = [{ errors = ["*"], to = "failed" }])");
    REQUIRE(caught.ok);
    CHECK(caught.final_state == "main/failed");
    CHECK(caught.data["caught"].as_string().rfind("LuaError|", 0) == 0);
    // Data as at the pushing state's entry: its transform and the child's are rolled back.
    CHECK(!caught.data.contains("trail"));
}

TEST_CASE("exec - breadth_first yields every completed branch") {
    Result r = run(R"(
name = "fanout"
strategy = "breadth_first"
[networks.main.states.start]
start = true
[[networks.main.states.start.arcs]]
to = "a"
transform = "steps.add_a"
[[networks.main.states.start.arcs]]
to = "b"
transform = "steps.add_b"
[[networks.main.states.start.arcs]]
to = "never"
when = "steps.never"
[networks.main.states.a]
[[networks.main.states.a.arcs]]
to = "a_end"
[networks.main.states.a_end]
end = true
[networks.main.states.b]
end = true
[networks.main.states.never]
end = true
)",
                   "{}");
    REQUIRE(r.ok);
    REQUIRE(r.branches.size() == 2);
    // Level by level: b ends at level 2, a_end at level 3.
    CHECK(r.final_state == "main/b");
    CHECK(r.branches[0].final_state == "main/b");
    CHECK(r.branches[0].data["trail"].as_string() == "b");
    CHECK(r.branches[1].final_state == "main/a_end");
    CHECK(r.branches[1].data["trail"].as_string() == "a");
    CHECK(r.branches[1].path == Path{"main/start", "main/a", "main/a_end"});
}

const char* rollback_workflow = R"(
name = "rollback"
%s
[networks.main.states.change]
start = true
transform = "steps.mutate_then_fail"
on_error = [{ errors = ["*"], to = "handled" }]
[[networks.main.states.change.arcs]]
to = "handled"
[networks.main.states.handled]
end = true
)";

std::string with_mode(const char* mode) {
    std::string text(rollback_workflow);
    text.replace(text.find("%s"), 2, mode);
    return text;
}

TEST_CASE("exec - copy mode leaves the caller's value untouched and rolls back a failed step") {
    Engine engine;
    Workflow wf = load(engine, with_mode("data_mode = \"copy\""));
    const Value input = Value::from_json(R"({"id": 1, "amount": 10, "customer": {"name": "Ann"}})");
    const Value before = input;
    Result r = wf.process(input);
    REQUIRE(r.ok);
    CHECK(input == before);
    CHECK(r.data == before);
}

TEST_CASE("exec - direct mode mutates in place, without rollback") {
    Engine engine;
    Workflow wf = load(engine, with_mode("data_mode = \"direct\""));
    Result r = wf.process(Value::from_json(R"({"id": 1, "amount": 10, "customer": {"name": "Ann"}})"));
    REQUIRE(r.ok);
    CHECK(r.data == Value::from_json(R"({"amount": -1, "customer": {"name": "changed"}, "extra": "added"})"));

    // The per-call option overrides the workflow's mode.
    Workflow copy = load(engine, with_mode(""));
    Result direct = copy.process(Value::from_json(R"({"id": 1, "amount": 10, "customer": {"name": "Ann"}})"),
                                 {.mode = statenet::DataMode::direct});
    CHECK(direct.data["amount"].as_int() == -1);
}

TEST_CASE("exec - copy mode shares untouched nested tables and isolates touched ones") {
    Result r = run(R"(
name = "nested"
[networks.main.states.a]
start = true
transform = ["steps.touch_nested", "steps.list_keys"]
[[networks.main.states.a.arcs]]
to = "b"
[networks.main.states.b]
end = true
transform = "steps.delete_id"
)",
                   R"({"id": 1, "customer": {"name": "Ann"}, "tags": [], "untouched": {"deep": [1, {"x": null}]}})");
    REQUIRE(r.ok);
    CHECK(r.data == Value::from_json(
                        R"({"customer": {"name": "Ann", "tier": "gold"}, "tags": [], "untouched": {"deep": [1, {}]},
            "keys": "customer,id,tags,untouched"})"));
    // Output keeps the input's field order, new fields last.
    CHECK(r.data.as_object().front().first == "customer");
    CHECK(r.data.as_object().back().first == "keys");
}
