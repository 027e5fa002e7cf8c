// Tests for the TOML and Lua workflow readers: structure, order, locations and errors.
#include "load/lua_reader.hpp"
#include "load/node.hpp"

#include <doctest/doctest.h>
#include <lua.hpp>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>

namespace {

using statenet::detail::Diagnostics;
using statenet::detail::Loc;
using statenet::detail::Node;
using Kind = Node::Kind;

/// A directory of workflow files, removed when the test ends.
class temp_dir {
public:
    temp_dir() {
        static std::atomic<int> counter{0};
        path_ = std::filesystem::temp_directory_path() /
                ("statenet_reader_test_" + std::to_string(std::random_device{}()) + "_" + std::to_string(counter++));
        std::filesystem::create_directories(path_);
    }
    ~temp_dir() {
        std::error_code ignored;
        std::filesystem::remove_all(path_, ignored);
    }
    temp_dir(const temp_dir&) = delete;
    temp_dir& operator=(const temp_dir&) = delete;

    std::string write(const std::string& name, const std::string& text) const {
        const auto file = path_ / name;
        std::ofstream(file, std::ios::binary) << text;
        return file.string();
    }

private:
    std::filesystem::path path_;
};

class lua_vm {
public:
    lua_vm() : L(luaL_newstate()) { luaL_openlibs(L); }
    ~lua_vm() { lua_close(L); }
    lua_vm(const lua_vm&) = delete;
    lua_vm& operator=(const lua_vm&) = delete;
    lua_State* L;
};

std::vector<std::string> keys_of(const Node& table) {
    std::vector<std::string> keys;
    for (const auto& [key, value] : table.fields) keys.push_back(key);
    return keys;
}

const Loc& key_loc(const Node& table, std::string_view key) {
    for (std::size_t i = 0; i < table.fields.size(); ++i)
        if (table.fields[i].first == key) return table.field_locs.at(i);
    FAIL("no key " << key);
    static const Loc none;
    return none;
}

void check_loc(const Loc& loc, int line, int column) {
    CHECK(loc.line == line);
    CHECK(loc.column == column);
}

const Node& at_path(const Node& root, std::initializer_list<std::string_view> keys) {
    const Node* node = &root;
    for (auto key : keys) {
        const Node* next = node->field(key);
        REQUIRE_MESSAGE(next, "missing key " << key);
        node = next;
    }
    return *node;
}

struct lua_read {
    bool ok = false;
    Node root;
    Diagnostics diags;
};

lua_read read_lua(const std::string& text, const std::string& name = "wf.lua") {
    temp_dir dir;
    lua_vm vm;
    lua_read result;
    const std::string file = dir.write(name, text);
    const int top = lua_gettop(vm.L);
    result.ok = statenet::detail::read_lua_workflow(vm.L, file, result.root, result.diags);
    CHECK(lua_gettop(vm.L) == top);
    for (auto& d : result.diags.list) {
        CHECK(d.file == file);
        d.file = name;  // the temp dir is no part of what the tests compare
    }
    return result;
}

}  // namespace

using statenet::detail::read_toml;

TEST_CASE("reader - toml keeps keys in source order") {
    const std::string text = R"(zeta = 1
alpha = 2
[networks.main.states.start]
start = true
[[networks.main.states.start.arcs]]
to = "small"
when = "a.b"
[networks.main.states.big]
end = true
[networks.main.states.aardvark]
end = true
[networks.main]
description = "declared after its states"
)";
    Node root;
    Diagnostics diags;
    REQUIRE(read_toml(text, "wf.toml", root, diags));
    CHECK(diags.empty());
    CHECK(keys_of(root) == std::vector<std::string>{"zeta", "alpha", "networks"});
    CHECK(keys_of(at_path(root, {"networks", "main"})) == std::vector<std::string>{"states", "description"});
    CHECK(keys_of(at_path(root, {"networks", "main", "states"})) ==
          std::vector<std::string>{"start", "big", "aardvark"});
    const Node& arcs = at_path(root, {"networks", "main", "states", "start", "arcs"});
    REQUIRE(arcs.kind == Kind::array);
    REQUIRE(arcs.items.size() == 1);
    CHECK(keys_of(arcs.items[0]) == std::vector<std::string>{"to", "when"});
}

TEST_CASE("reader - toml converts every kind of value") {
    const std::string text = "s = 'x'\ni = -7\nf = 2.5\nb = false\na = [1, 'two', {k = 3}]\n";
    Node root;
    Diagnostics diags;
    REQUIRE(read_toml(text, "wf.toml", root, diags));
    CHECK(root.kind == Kind::table);
    CHECK(root.field("s")->kind == Kind::string);
    CHECK(root.field("s")->str == "x");
    CHECK(root.field("i")->kind == Kind::integer);
    CHECK(root.field("i")->integer == -7);
    CHECK(root.field("f")->kind == Kind::number);
    CHECK(root.field("f")->number == 2.5);
    CHECK(root.field("b")->kind == Kind::boolean);
    CHECK_FALSE(root.field("b")->boolean);
    const Node& a = *root.field("a");
    REQUIRE(a.kind == Kind::array);
    REQUIRE(a.items.size() == 3);
    CHECK(a.items[1].str == "two");
    CHECK(a.items[2].kind == Kind::table);
    CHECK(a.items[2].field("k")->integer == 3);
    CHECK(root.fields.size() == root.field_locs.size());
}

TEST_CASE("reader - toml locates keys and values") {
    const std::string text = R"(name = "orders"
[networks.main.states.start]
  priorty = 10
schema = { id = "integer" }

  [[networks.main.states.start.arcs]]
to = "big"
[[networks.main.states.start.arcs]]
to = "small"
)";
    Node root;
    Diagnostics diags;
    REQUIRE(read_toml(text, "wf.toml", root, diags));
    CHECK(root.field("name")->loc.file == "wf.toml");
    check_loc(key_loc(root, "name"), 1, 1);
    check_loc(root.field("name")->loc, 1, 8);

    const Node& start = at_path(root, {"networks", "main", "states", "start"});
    check_loc(start.loc, 2, 1);  // its [header]
    check_loc(key_loc(at_path(root, {"networks", "main", "states"}), "start"), 2, 23);
    check_loc(key_loc(start, "priorty"), 3, 3);
    check_loc(start.field("priorty")->loc, 3, 13);
    check_loc(start.field("schema")->loc, 4, 10);  // the inline table's '{'
    check_loc(key_loc(*start.field("schema"), "id"), 4, 12);

    const Node& arcs = *start.field("arcs");
    REQUIRE(arcs.items.size() == 2);
    check_loc(arcs.items[0].loc, 6, 3);
    check_loc(arcs.items[1].loc, 8, 1);
    check_loc(key_loc(arcs.items[1], "to"), 9, 1);
    check_loc(arcs.items[1].field("to")->loc, 9, 6);
}

TEST_CASE("reader - toml syntax error gives file, line and column") {
    Node root;
    Diagnostics diags;
    CHECK_FALSE(read_toml("name = \"x\"\nmain = = 2\n", "bad.toml", root, diags));
    REQUIRE(diags.list.size() == 1);
    CHECK(diags.list[0].file == "bad.toml");
    CHECK(diags.list[0].line == 2);
    CHECK(diags.list[0].column == 8);
    CHECK_FALSE(diags.list[0].message.empty());
}

TEST_CASE("reader - toml rejects dates where they appear") {
    Node root;
    Diagnostics diags;
    CHECK(read_toml("name = 'x'\n[vars]\nwhen = 1979-05-27\nat = [07:32:00]\n", "wf.toml", root, diags));
    REQUIRE(diags.list.size() == 2);
    CHECK(diags.list[0].message == "dates are not supported here");
    CHECK(diags.list[0].line == 3);
    CHECK(diags.list[0].column == 8);
    CHECK(diags.list[1].line == 4);
    CHECK(diags.list[1].column == 7);
    const Node& vars = *root.field("vars");
    CHECK(vars.field("when") == nullptr);
    CHECK(vars.field("at")->items.empty());
}

TEST_CASE("reader - lua maps are sorted and lists keep their order") {
    auto r = read_lua(R"(return {
  name = "orders",
  version = "1.0",
  data_mode = "copy",
  networks = { main = { states = {
    { name = "start", start = true },
    { name = "big", ["end"] = true },
    { name = "aardvark", ["end"] = true },
  } } },
}
)");
    REQUIRE(r.ok);
    CHECK(r.diags.empty());
    CHECK(keys_of(r.root) == std::vector<std::string>{"data_mode", "name", "networks", "version"});
    const Node& states = at_path(r.root, {"networks", "main", "states"});
    REQUIRE(states.kind == Kind::array);
    REQUIRE(states.items.size() == 3);
    CHECK(states.items[0].field("name")->str == "start");
    CHECK(states.items[1].field("name")->str == "big");
    CHECK(states.items[2].field("name")->str == "aardvark");
    CHECK(states.items[1].field("end")->boolean);
}

TEST_CASE("reader - lua tells lists from tables and integers from numbers") {
    auto r = read_lua(R"(return {
  list = { "a", "b", "c" },
  empty = {},
  map = { x = 1 },
  int = 3,
  float = 2.5,
  big = 2^40,
  yes = true,
}
)");
    REQUIRE(r.ok);
    CHECK(r.diags.empty());
    CHECK(r.root.field("list")->kind == Kind::array);
    CHECK(r.root.field("list")->items.at(2).str == "c");
    CHECK(r.root.field("empty")->kind == Kind::table);
    CHECK(r.root.field("empty")->fields.empty());
    CHECK(r.root.field("map")->kind == Kind::table);
    CHECK(r.root.field("int")->kind == Kind::integer);
    CHECK(r.root.field("int")->integer == 3);
    CHECK(r.root.field("float")->kind == Kind::number);
    CHECK(r.root.field("float")->number == 2.5);
    CHECK(r.root.field("big")->integer == (std::int64_t{1} << 40));
    CHECK(r.root.field("yes")->boolean);
}

TEST_CASE("reader - lua reports keys that are neither names nor list indices") {
    auto r = read_lua(R"(return {
  mixed = { "a", x = 1 },
  gaps = { [1] = "a", [3] = "c" },
  odd = { [true] = 1, y = 2 },
}
)");
    REQUIRE(r.ok);
    REQUIRE(r.diags.list.size() == 3);
    CHECK(r.diags.list[0].message == "the list 'gaps' has gaps; its keys must be 1..n");
    CHECK(r.diags.list[0].line == 3);
    CHECK(r.diags.list[1].message == "'mixed' mixes list items and named keys");
    CHECK(r.diags.list[1].line == 2);
    CHECK(r.diags.list[2].message.find("table keys must be strings, got a boolean key") == 0);
    CHECK(r.diags.list[2].line == 4);
    // The named keys are still read, so their own problems are found too.
    CHECK(r.root.field("odd")->field("y")->integer == 2);
}

TEST_CASE("reader - lua functions carry their path and line") {
    auto r = read_lua(R"(local M = {}

function M.is_big(data)
  return data.amount > 100
end

return {
  name = "fns",
  networks = { main = { states = {
    start = {
      start = true,
      arcs = {
        { to = "big", when = M.is_big },
        { to = "small",
          when = function(data) return true end },
      },
    },
  } } },
}
)");
    REQUIRE(r.ok);
    CHECK(r.diags.empty());
    const Node& arcs = at_path(r.root, {"networks", "main", "states", "start", "arcs"});
    REQUIRE(arcs.items.size() == 2);

    const Node& big = *arcs.items[0].field("when");
    REQUIRE(big.kind == Kind::function);
    check_loc(big.loc, 3, 1);
    REQUIRE(big.fn_path.size() == 7);
    const char* keys[] = {"networks", "main", "states", "start", "arcs"};
    for (std::size_t i = 0; i < 5; ++i) {
        CHECK_FALSE(big.fn_path[i].is_index);
        CHECK(big.fn_path[i].key == keys[i]);
    }
    CHECK(big.fn_path[5].is_index);
    CHECK(big.fn_path[5].index == 1);
    CHECK(big.fn_path[6].key == "when");

    const Node& small = *arcs.items[1].field("when");
    REQUIRE(small.kind == Kind::function);
    check_loc(small.loc, 15, 18);
    CHECK(small.fn_path[5].index == 2);
    check_loc(key_loc(arcs.items[1], "when"), 15, 11);
}

TEST_CASE("reader - lua locates keys and values") {
    auto r = read_lua(R"(local start = {
  start = true,
  arcs = { { to = "big" }, { to = "small", priorty = 2 } },
}
return {
  name = "orders",
  networks = {
    main = { states = { start = start, ["big"] = { ["end"] = true } } },
  },
}
)");
    REQUIRE(r.ok);
    CHECK(r.diags.empty());
    check_loc(r.root.loc, 5, 8);
    check_loc(key_loc(r.root, "name"), 6, 3);
    check_loc(r.root.field("name")->loc, 6, 10);

    const Node& states = at_path(r.root, {"networks", "main", "states"});
    check_loc(states.loc, 8, 23);
    check_loc(key_loc(states, "big"), 8, 40);
    check_loc(states.field("big")->loc, 8, 50);
    check_loc(key_loc(*states.field("big"), "end"), 8, 52);

    // `start` is a local variable: its keys are found in the table it was built from.
    const Node& start = *states.field("start");
    check_loc(start.loc, 8, 33);
    check_loc(key_loc(start, "start"), 2, 3);
    const Node& arcs = *start.field("arcs");
    REQUIRE(arcs.items.size() == 2);
    check_loc(arcs.items[0].loc, 3, 12);
    check_loc(arcs.items[1].loc, 3, 28);
    check_loc(key_loc(arcs.items[1], "to"), 3, 30);
    check_loc(arcs.items[1].field("to")->loc, 3, 35);
    check_loc(key_loc(arcs.items[1], "priorty"), 3, 44);
}

TEST_CASE("reader - lua falls back to searching the text") {
    // The root comes from a call, so keys are searched for from the top of the file,
    // skipping comments and strings; list items not written out keep their parent's place.
    auto r = read_lua(R"(-- name = "not here"
local function build(t) return t end
local s = "name = 'nor here'"
return build({
  name = "wf",
  scripts = { ("lua"):upper() },
})
)");
    REQUIRE(r.ok);
    check_loc(key_loc(r.root, "name"), 5, 3);
    check_loc(r.root.field("name")->loc, 5, 10);
    const Node& scripts = *r.root.field("scripts");
    check_loc(scripts.loc, 6, 13);
    CHECK(scripts.items.at(0).str == "LUA");
}

TEST_CASE("reader - lua syntax error names file and line") {
    auto r = read_lua("return {\n  name = \"x\",\n  main = = 1,\n}\n", "syntax.lua");
    CHECK_FALSE(r.ok);
    REQUIRE(r.diags.list.size() == 1);
    CHECK(r.diags.list[0].line == 3);
    CHECK(r.diags.list[0].message.find("unexpected symbol") != std::string::npos);
    CHECK(r.diags.list[0].message.find("syntax.lua") == std::string::npos);
}

TEST_CASE("reader - lua runtime error names file and line") {
    auto r = read_lua("local x = 1\nerror('no workflow today')\n");
    CHECK_FALSE(r.ok);
    REQUIRE(r.diags.list.size() == 1);
    CHECK(r.diags.list[0].line == 2);
    CHECK(r.diags.list[0].message == "no workflow today");
}

TEST_CASE("reader - lua workflow must return a table") {
    for (const char* text : {"return 42\n", "local t = {}\n"}) {
        auto r = read_lua(text);
        CHECK_FALSE(r.ok);
        REQUIRE(r.diags.list.size() == 1);
        CHECK(r.diags.list[0].message == "a Lua workflow must return a table");
        CHECK(r.diags.list[0].line == 1);
    }
}

TEST_CASE("reader - lua missing file is reported") {
    lua_vm vm;
    Node root;
    Diagnostics diags;
    CHECK_FALSE(statenet::detail::read_lua_workflow(vm.L, "/nonexistent/wf.lua", root, diags));
    REQUIRE(diags.list.size() == 1);
    CHECK(diags.list[0].file == "/nonexistent/wf.lua");
}

TEST_CASE("reader - lua cyclic tables are reported, shared ones are not") {
    auto r = read_lua(R"(local schema = { id = "integer" }
local wf = {
  name = "cycle",
  a = { schema = schema },
  b = { schema = schema },
  c = {},
}
wf.c.parent = wf
return wf
)");
    REQUIRE(r.ok);
    REQUIRE(r.diags.list.size() == 1);
    CHECK(r.diags.list[0].message.find("cyclic table") == 0);
    CHECK(r.diags.list[0].message.find("'c.parent'") != std::string::npos);
    CHECK(r.root.field("a")->field("schema")->field("id")->str == "integer");
    CHECK(r.root.field("b")->field("schema")->field("id")->str == "integer");
    CHECK(r.root.field("c")->field("parent") == nullptr);
}

TEST_CASE("reader - lua values a workflow cannot hold are reported") {
    auto r = read_lua("return {\n  name = 'x',\n  out = io.stdout,\n  co = coroutine.create(print),\n}\n");
    REQUIRE(r.ok);
    REQUIRE(r.diags.list.size() == 2);
    CHECK(r.diags.list[0].message.find("'co' is a thread") == 0);
    CHECK(r.diags.list[0].line == 4);
    CHECK(r.diags.list[1].message.find("'out' is a userdata") == 0);
    CHECK(r.diags.list[1].line == 3);
    CHECK(keys_of(r.root) == std::vector<std::string>{"name"});
}
