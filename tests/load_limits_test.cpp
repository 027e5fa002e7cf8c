// Workflows that push the loader's limits: nesting beyond max_nesting_depth and numbers
// out of range are located load errors, never a crash or a silent default.
#include <statenet/statenet.hpp>

#include "temp_dir.hpp"

#include <doctest/doctest.h>

#include <fstream>
#include <string>
#include <vector>

using statenet::Diagnostic;
using statenet::Engine;
using statenet::max_nesting_depth;

namespace {

const char* end_state = R"(
[networks.main.states.s]
start = true
end = true
)";

std::string repeat(std::string_view text, int times) {
    std::string out;
    for (int i = 0; i < times; ++i) out += text;
    return out;
}

/// `a.a.a...a` with `segments` segments.
std::string dotted(int segments) { return "a" + repeat(".a", segments - 1); }

/// The diagnostics of `text` saved as `name` and checked.
std::vector<std::string> check(const std::string& name, const std::string& text) {
    statenet_test::TempDir dir("statenet_limits");
    std::ofstream(dir / name) << text;
    std::vector<std::string> lines;
    for (const Diagnostic& d : Engine().check(dir / name)) {
        std::string line = d.str();
        line.erase(0, (dir / "").string().size());  // the file name as written
        lines.push_back(line);
    }
    return lines;
}

std::vector<std::string> check_toml(const std::string& body) {
    return check("limits.toml", "name = \"limits\"\n" + body + end_state);
}

const std::string too_deep =
    "nested deeper than 128 levels (tables, dotted-key segments, arrays and inline tables "
    "each count)";

}  // namespace

TEST_CASE("load limits - a dotted key 100,000 segments deep is a located error, not a crash") {
    CHECK(check_toml("[vars]\n" + dotted(100000) + ".b = 1\n") ==
          std::vector<std::string>{"limits.toml:3:1: " + too_deep});
    CHECK(check_toml("[vars]\n" + dotted(1000) + " = 1\n") == std::vector<std::string>{"limits.toml:3:1: " + too_deep});
    CHECK(check_toml("[" + dotted(100000) + "]\n") == std::vector<std::string>{"limits.toml:2:1: " + too_deep});
}

TEST_CASE("load limits - TOML nesting counts tables, key segments, arrays and inline tables up to the limit") {
    // [vars] is level 2: a key of 127 segments opens tables down to level 128.
    CHECK(check_toml("[vars]\n" + dotted(max_nesting_depth - 1) + " = 1\n").empty());
    CHECK(check_toml("[vars]\n" + dotted(max_nesting_depth) + " = 1\n") ==
          std::vector<std::string>{"limits.toml:3:1: " + too_deep});
    // x is level 3, so 126 arrays reach 128.
    const int arrays = max_nesting_depth - 2;
    CHECK(check_toml("[vars]\nx = " + repeat("[", arrays) + repeat("]", arrays) + "\n").empty());
    CHECK(check_toml("[vars]\nx = " + repeat("[", arrays + 1) + repeat("]", arrays + 1) + "\n") ==
          std::vector<std::string>{"limits.toml:3:" + std::to_string(4 + arrays + 1) + ": " + too_deep});
    CHECK(check_toml("[vars]\nx = " + repeat("{a=", arrays + 1) + "1" + repeat("}", arrays + 1) + "\n").size() == 1);
    CHECK(check_toml("[[" + dotted(max_nesting_depth - 2) + "]]\n").size() == 1);  // unknown key 'a', not too deep
    CHECK(check_toml("[[" + dotted(max_nesting_depth - 1) + "]]\n") ==
          std::vector<std::string>{"limits.toml:2:1: " + too_deep});
    // Brackets and dots inside strings and comments are not structure.
    CHECK(check_toml("[vars]\n\"" + dotted(300) + "\" = '" + repeat("[", 300) + "' # " + repeat("{", 300) +
                     "\ns = \"\"\"\n[" + dotted(300) + "]\n\"\"\"\n")
              .empty());
}

TEST_CASE("load limits - a Lua workflow's tables nested too deeply are a located error") {
    const std::string built = R"(local deep = {}
local t = deep
for i = 1, 100000 do t.a = {}; t = t.a end
return {
  name = "deep",
  vars = { x = deep },
  networks = { main = { states = { s = { start = true, ["end"] = true } } } },
}
)";
    CHECK(check("deep.lua", built) == std::vector<std::string>{"deep.lua:6:16: tables nested deeper than 128 levels"});
    // The deepest vars allowed reach Lua as ctx.vars.
    const int levels = max_nesting_depth - 2;  // vars.x is level 3
    const std::string literal = "return { name = \"ok\", vars = { x = " + repeat("{", levels) + repeat("}", levels) +
                                " }, networks = { main = { states = { s = { start = true, [\"end\"] = true } } } } }";
    CHECK(check("ok.lua", literal).empty());
}

TEST_CASE("load limits - numeric keys out of range are located errors naming the key and the range") {
    const std::string state = R"(
[networks.main.states.s]
start = true
end = true
)";
    const auto errors = [&](const std::string& body, const std::string& state_body = "") {
        statenet_test::TempDir dir("statenet_limits");
        std::ofstream(dir / "n.toml") << "name = \"n\"\n" << body << state << state_body;
        std::vector<std::string> lines;
        for (const Diagnostic& d : Engine().check(dir / "n.toml"))
            lines.push_back(d.str().substr((dir / "").string().size()));
        return lines;
    };
    using lines = std::vector<std::string>;
    CHECK(errors("timeout_ms = nan\n") == lines{"n.toml:2:14: 'timeout_ms' must be a number from 0 to 2147483647"});
    CHECK(errors("timeout_ms = -1\n") == lines{"n.toml:2:14: 'timeout_ms' must be a number from 0 to 2147483647"});
    CHECK(errors("timeout_ms = inf\n").size() == 1);
    CHECK(errors("max_transitions = 0\n") ==
          lines{"n.toml:2:19: 'max_transitions' must be an integer from 1 to 2147483647"});
    CHECK(errors("max_transitions = 9223372036854775807\n").size() == 1);
    CHECK(errors("[transaction]\nbatch_size = 1e3\n") ==
          lines{"n.toml:3:14: 'batch_size' must be an integer from 1 to 2147483647"});
    CHECK(errors("[resources.db]\ntype = \"sqlite\"\npath = \":memory:\"\npool = 9.2e18\n") ==
          lines{"n.toml:5:8: 'pool' must be an integer from 1 to 1024"});
    CHECK(errors("[resources.db]\ntype = \"sqlite\"\npath = \":memory:\"\npool = 9200000000000000000\n").size() == 1);
    CHECK(errors("[resources.db]\ntype = \"sqlite\"\npath = \":memory:\"\nbusy_timeout_ms = -1\n") ==
          lines{"n.toml:5:19: 'busy_timeout_ms' must be a number from 0 to 2147483647"});
    CHECK(errors("[history]\nmax_age = \"9223372036854775807w\"\n").size() == 1);
    CHECK(errors("[history]\nmax_age = 4000000000\n").size() == 1);

    const auto retry = [&](const std::string& keys) {
        return errors("", "retry = [{ errors = [\"*\"], " + keys + " }]\n");
    };
    CHECK(retry("interval_ms = -1") == lines{"n.toml:6:42: 'interval_ms' must be a number from 0 to 2147483647"});
    CHECK(retry("interval_ms = nan").size() == 1);
    CHECK(retry("interval_ms = inf").size() == 1);
    CHECK(retry("interval_ms = 9223372036854775807").size() == 1);
    CHECK(retry("max_delay_ms = -inf") == lines{"n.toml:6:43: 'max_delay_ms' must be a number from 0 to 2147483647"});
    CHECK(retry("backoff = nan") == lines{"n.toml:6:38: 'backoff' must be a number from 1 to 1000"});
    CHECK(retry("backoff = 0.5").size() == 1);
    CHECK(retry("attempts = 4294967296") == lines{"n.toml:6:39: 'attempts' must be an integer from 0 to 1000000"});
    CHECK(retry("attempts = 10, interval_ms = 2147483647, backoff = 1000, max_delay_ms = 0").empty());
}

TEST_CASE("load limits - a Lua workflow's numbers are checked the same way") {
    const std::string lua = R"(return {
  name = "n",
  timeout_ms = 0/0,
  resources = { db = { type = "sqlite", path = ":memory:", pool = 9.2e18 } },
  networks = { main = { states = { s = { start = true, ["end"] = true,
    retry = { { errors = { "*" }, interval_ms = math.huge } } } } } },
}
)";
    const auto got = check("n.lua", lua);
    REQUIRE(got.size() == 3);
    CHECK(got[0].find("'timeout_ms' must be a number from 0 to 2147483647") != std::string::npos);
    CHECK(got[1].find("'pool' must be an integer from 1 to 1024") != std::string::npos);
    CHECK(got[2].find("'interval_ms' must be a number from 0 to 2147483647") != std::string::npos);
}
