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
