// Parallel states: every join (all, any, quorum), every merge (namespaced, deep, a
// function), failures routed like any state's, and located load errors.
#include <statenet/statenet.hpp>

#include <doctest/doctest.h>

#include <string>

using statenet::Engine;
using statenet::Value;

namespace {

/// A fan-out state with `parallel` (the text after `parallel = `) over three branches:
/// `a` doubles qty, `b` fails when qty > 10, `c` marks the record.
std::string workflow(const std::string& parallel, const std::string& extra = "") {
    return R"(
name = "par"
[networks.main.states.fan]
start = true
transform = [{ lua = "data.base = true; return data" }]
parallel = )" +
           parallel + R"(
on_error = [{ errors = ["ValidationFailed"], to = "rejected" }]
[[networks.main.states.fan.arcs]]
to = "done"
[networks.main.states.done]
end = true
[networks.main.states.rejected]
end = true
[networks.a.states.s]
start = true
end = true
transform = [{ lua = "data.qty = data.qty * 2; data.from_a = true; return data" }]
[networks.b.states.s]
start = true
end = true
validate = [{ lua = "return data.qty <= 10, 'qty over 10'" }]
transform = [{ lua = "data.checked = true; return data" }]
[networks.c.states.s]
start = true
end = true
transform = [{ lua = "data.from_c = 'yes'; return data" }]
)" + extra;
}

statenet::Result run(const std::string& toml, const char* record) {
    Engine engine;
    auto wf = engine.load_string(toml, "par.toml");
    return wf.process(Value::from_json(record));
}

}  // namespace

TEST_CASE("parallel - join all, namespaced: each branch's record under its network's name") {
    auto r = run(workflow(R"({ branches = ["a", "b"] })"), R"({"qty": 3})");
    REQUIRE(r.ok);
    CHECK(r.final_state == "main/done");
    CHECK(r.data["qty"] == Value(3));
    CHECK(r.data["a"]["qty"] == Value(6));
    CHECK(r.data["a"]["base"] == Value(true));  // each branch starts from the state's result
    CHECK(r.data["b"]["checked"] == Value(true));
    CHECK(r.path == std::vector<std::string>{"main/fan", "a/s", "b/s", "main/done"});
}

TEST_CASE("parallel - join all: a failing branch fails the state with its own error, routed by on_error") {
    auto r = run(workflow(R"({ branches = ["a", "b"] })"), R"({"qty": 30})");
    REQUIRE(r.ok);
    CHECK(r.final_state == "main/rejected");
    // Nothing any branch did reached the record.
    CHECK(!r.data.contains("a"));
    CHECK(r.data["qty"] == Value(30));
}

TEST_CASE("parallel - deep merge: what each branch changed, merged into the record") {
    auto r = run(workflow(R"({ branches = ["a", "c"], merge = "deep" })"), R"({"qty": 3, "meta": {"x": 1}})");
    REQUIRE(r.ok);
    CHECK(r.data["qty"] == Value(6));
    CHECK(r.data["from_a"] == Value(true));
    CHECK(r.data["from_c"] == Value("yes"));
    CHECK(r.data["meta"]["x"] == Value(1));
}

TEST_CASE("parallel - deep merge: nested objects merge field by field, removals too, later branches win") {
    const std::string extra = R"(
[networks.d.states.s]
start = true
end = true
transform = [{ lua = "data.meta.y = 2; data.drop = nil; data.qty = 100; return data" }]
)";
    auto r = run(workflow(R"({ branches = ["a", "d"], merge = "deep" })", extra),
                 R"({"qty": 3, "meta": {"x": 1}, "drop": "me"})");
    REQUIRE(r.ok);
    CHECK(r.data["qty"] == Value(100));
    CHECK(r.data["meta"] == Value::from_json(R"({"x": 1, "y": 2})"));
    CHECK(!r.data.contains("drop"));
    CHECK(r.data["from_a"] == Value(true));
}

TEST_CASE("parallel - a merge function gets the record and the results by branch") {
    const std::string merge =
        R"({ branches = ["a", "c"], merge = { lua = "data.total = ctx.branches.a.qty + #ctx.branches.c.from_c; return data" } })";
    auto r = run(workflow(merge), R"({"qty": 4})");
    REQUIRE(r.ok);
    CHECK(r.data["total"] == Value(11));
    CHECK(!r.data.contains("a"));
}

TEST_CASE("parallel - any: the first branch to finish is enough, the rest do not run") {
    auto r = run(workflow(R"({ branches = ["b", "a", "c"], join = "any" })"), R"({"qty": 30})");
    REQUIRE(r.ok);
    CHECK(r.final_state == "main/done");
    CHECK(r.data.contains("a"));
    CHECK(!r.data.contains("b"));
    CHECK(!r.data.contains("c"));
    CHECK(r.path == std::vector<std::string>{"main/fan", "b/s", "a/s", "main/done"});
}

TEST_CASE("parallel - quorum: enough branches finish, or ParallelFailed") {
    auto met = run(workflow(R"({ branches = ["a", "b", "c"], join = { quorum = 2 } })"), R"({"qty": 30})");
    REQUIRE(met.ok);
    CHECK(met.data.contains("a"));
    CHECK(met.data.contains("c"));
    CHECK(!met.data.contains("b"));
    auto missed = run(workflow(R"({ branches = ["a", "b"], join = { quorum = 2 } })"), R"({"qty": 30})");
    CHECK(!missed.ok);
    REQUIRE(missed.error);
    CHECK(missed.error->name == "ParallelFailed");
    CHECK(missed.error->message ==
          "1 of 2 branches finished, 2 needed; branch 'b' failed: ValidationFailed: qty over 10");
    CHECK(missed.error->state == "main/fan");
}

TEST_CASE("parallel - bad declarations are located load errors") {
    Engine engine;
    auto errors = [&](const std::string& parallel) {
        try {
            engine.load_string(workflow(parallel), "par.toml");
        } catch (const statenet::LoadError& e) {
            return std::string(e.what());
        }
        return std::string();
    };
    CHECK(
        errors(R"({ branches = ["a", "nope"] })").find("par.toml:6:31: unknown network 'nope' in parallel branches") !=
        std::string::npos);
    CHECK(errors(R"({ branches = ["a"], join = "al" })").find("did you mean 'all'") != std::string::npos);
    CHECK(errors(R"({ branches = ["a"], join = { quorum = 2 } })")
              .find("'quorum' must be an integer from 1 to 1 (the number of branches)") != std::string::npos);
    CHECK(errors(R"({ branches = [] })").find("'parallel' needs 'branches'") != std::string::npos);
    CHECK(errors(R"({ branches = ["a"], merge = "deeep" })").find("did you mean 'deep'") != std::string::npos);
    CHECK(errors(R"({ branches = ["a", "a"] })").find("network 'a' is listed twice") != std::string::npos);
}
