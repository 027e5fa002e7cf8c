// Runs the Lua stdlib test scripts (tests/lua/*_test.lua) inside a statenet Lua VM,
// with the runtime loaded (so copy-mode views and the view-aware pairs are in place).
#include "exec/services.hpp"
#include "lua/vm.hpp"
#include "statenet_config.hpp"
#include "temp_dir.hpp"
#include "test_paths.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace {

const std::filesystem::path source_dir(STATENET_SOURCE_DIR);

std::string run_script(const std::filesystem::path& script) {
    // tests/lua is on the module path so scripts can share helpers.
    statenet::detail::LuaVm vm({(source_dir / "tests/lua").string()}, statenet::detail::find_stdlib({}));
    lua_State* L = vm.state();
    if (luaL_loadfile(L, script.string().c_str()) != 0 || lua_pcall(L, 0, 0, 0) != 0)
        return statenet::detail::pop_error_text(L);
    return {};
}

}  // namespace

TEST_CASE("stdlib - every Lua test script passes") {
    std::vector<std::filesystem::path> scripts;
    for (const auto& entry : std::filesystem::directory_iterator(source_dir / "tests/lua"))
        if (entry.path().filename().string().ends_with("_test.lua")) scripts.push_back(entry.path());
    std::sort(scripts.begin(), scripts.end());
    REQUIRE(scripts.size() >= 2);
    for (const auto& script : scripts) {
        CAPTURE(script.string());
        CHECK(run_script(script) == "");
    }
}

TEST_CASE("stdlib - a failing Lua assertion is reported with its file and line") {
    auto dir = statenet_test::scratch_root("statenet_stdlib_test");
    std::filesystem::create_directories(dir);
    auto script = dir / "broken_test.lua";
    {
        std::FILE* f = std::fopen(script.string().c_str(), "w");
        REQUIRE(f);
        std::fputs(
            "local v = require('std.validate')\nassert(v.range, 'has range')\nassert(false, 'expected failure')\n", f);
        std::fclose(f);
    }
    std::string error = run_script(script);
    CHECK(error.find("broken_test.lua:3: expected failure") != std::string::npos);
}

TEST_CASE("stdlib - the installed stdlib is looked for before the source tree's") {
    auto dirs = statenet::detail::stdlib_dirs();
    REQUIRE(!dirs.empty());
    CHECK(dirs.front() == STATENET_STDLIB_INSTALL_DIR);
#ifdef STATENET_STDLIB_SOURCE_DIR
    REQUIRE(dirs.size() == 2);
    CHECK(dirs[1] == STATENET_STDLIB_SOURCE_DIR);
#else
    CHECK(dirs.size() == 1);
#endif
}

TEST_CASE("stdlib - the first directory holding the runtime is the stdlib") {
    statenet_test::TempDir tmp("statenet_stdlib_dirs");
    auto installed = tmp / "installed";
    auto source = tmp / "source";
    auto add_runtime = [](const std::filesystem::path& dir) {
        std::filesystem::create_directories(dir / "statenet");
        std::ofstream(dir / "statenet" / "runtime.lua") << "return {}\n";
    };
    CHECK(statenet::detail::first_stdlib({installed, source}) == installed.string());  // none: the installed path
    add_runtime(source);
    CHECK(statenet::detail::first_stdlib({installed, source}) == source.string());
    add_runtime(installed);
    CHECK(statenet::detail::first_stdlib({installed, source}) == installed.string());
}
