// Where a failing function's error points: the script file and line, or the workflow
// file's line for inline Lua (single- and multi-line strings, TOML and Lua workflows).
#include "exec_helpers.hpp"
#include "temp_dir.hpp"

#include <statenet/statenet.hpp>

#include <doctest/doctest.h>

#include <fstream>
#include <string>

using exec_test::run;
using statenet::Result;
using statenet_test::exec_dir;

TEST_CASE("exec - a Lua error names the script file and line") {
    Result r = run(R"(
name = "boom"
[networks.main.states.s]
start = true
end = true
transform = "steps.boom"
)",
                   "{}");
    REQUIRE(!r.ok);
    CHECK(r.error->name == "LuaError");
    CHECK(r.error->message.find("steps.lua:18:") != std::string::npos);
    CHECK(r.error->message.find("attempt to index") != std::string::npos);
}

TEST_CASE("exec - an inline Lua error names the workflow file and line") {
    Result r = run(R"(name = "inline"
[networks.main.states.s]
start = true
end = true
transform = { lua = "data.x = nil + 1" }
)",
                   "{}");
    REQUIRE(!r.ok);
    CHECK(r.error->message.find("test.toml:5:") != std::string::npos);
}

TEST_CASE("exec - a multi-line inline Lua error names the line of the failing code") {
    // TOML drops the newline right after `"""`: the code starts on line 6.
    Result r = run(R"(name = "inline"
[networks.main.states.s]
start = true
end = true
transform = { lua = """
local ok = true
data.x = nil + 1
""" }
)",
                   "{}");
    REQUIRE(!r.ok);
    CHECK(r.error->message.find("test.toml:7:") != std::string::npos);

    // Lua drops it after `[[` (and `[==[`) the same way.
    statenet_test::TempDir dir("inline-lua");
    const auto file = dir / "test.lua";
    std::ofstream(file) << R"(return {
  name = "inline",
  networks = { main = { states = {
    s = { start = true, ["end"] = true, transform = { lua = [==[
local ok = true
data.x = nil + 1
]==] } },
  } } },
})";
    statenet::Engine engine;
    r = engine.load(file).process(statenet::Value::from_json("{}"));
    REQUIRE(!r.ok);
    CHECK(r.error->message.find("test.lua:6:") != std::string::npos);
}

TEST_CASE("exec - inline error() names the workflow line, not the runtime") {
    Result r = run(R"wf(name = "inline_error"
[networks.main.states.s]
start = true
end = true
transform = { lua = "error('inline failure')" }
)wf",
                   "{}");
    REQUIRE(!r.ok);
    CHECK(r.error->message == (exec_dir / "test.toml").string() + ":5: inline failure");
}
