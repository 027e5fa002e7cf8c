// ${ENV} expansion of workflow strings: values, defaults, $$, located errors, no secrets.
#include "load/env_expand.hpp"
#include "test_paths.hpp"

#include <statenet/statenet.hpp>

#include <doctest/doctest.h>

#include <cstdlib>
#include <filesystem>
#include <map>
#include <string>

using statenet::Engine;
using statenet::LoadError;
using statenet::Value;
using statenet::Workflow;
using statenet::detail::Diagnostics;
using statenet::detail::EnvSubstitutions;
using statenet::detail::Loc;

namespace {

std::string expand(const std::string& text, Diagnostics& diags) {
    const std::map<std::string, std::string> env = {{"HOST", "db.local"}, {"PORT", "5432"}, {"EMPTY", ""}};
    EnvSubstitutions used;
    return statenet::detail::expand_env_string(
        text, Loc{"wf.toml", 3, 7},
        [&](const std::string& name) -> std::optional<std::string> {
            auto found = env.find(name);
            if (found == env.end()) return std::nullopt;
            return found->second;
        },
        diags, used);
}

std::string expand(const std::string& text) {
    Diagnostics diags;
    std::string out = expand(text, diags);
    CHECK(diags.empty());
    return out;
}

const char* body = R"(
[networks.main.states.only]
start = true
end = true
transform = { lua = "data.greeting = ctx.vars.greeting; data.cost = ctx.vars.cost" }
)";

}  // namespace

TEST_CASE("env - variables, defaults and $$ expand; other dollars stay") {
    CHECK(expand("postgres://${HOST}:${PORT}/x") == "postgres://db.local:5432/x");
    CHECK(expand("${MISSING:-fallback}") == "fallback");
    CHECK(expand("${EMPTY:-used when empty}") == "used when empty");
    CHECK(expand("${HOST:-unused}") == "db.local");
    CHECK(expand("${MISSING:-}") == "");
    CHECK(expand("price: $$5, $$${PORT}") == "price: $5, $5432");
    CHECK(expand("a lone $ and $x stay") == "a lone $ and $x stay");
}

TEST_CASE("env - an unset variable without default is an error at the string, naming the variable") {
    Diagnostics diags;
    expand("token ${API_TOKEN} here", diags);
    REQUIRE(diags.list.size() == 1);
    CHECK(diags.list[0].str() ==
          "wf.toml:3:7: environment variable 'API_TOKEN' is not set (give a default with '${API_TOKEN:-...}')");
    Diagnostics malformed;
    expand("${not closed", malformed);
    expand("${BAD NAME}", malformed);
    REQUIRE(malformed.list.size() == 2);
    CHECK(malformed.list[0].message.find("unterminated") != std::string::npos);
    CHECK(malformed.list[1].message.find("malformed '${BAD NAME}'") != std::string::npos);
}

TEST_CASE("env - a workflow's strings expand at load") {
    ::setenv("STATENET_TEST_GREETING", "hello from env", 1);
    ::unsetenv("STATENET_TEST_COST");
    Engine engine;
    Workflow wf = engine.load_string(
        "name = \"env\"\n[vars]\ngreeting = \"${STATENET_TEST_GREETING}\"\ncost = \"$$${STATENET_TEST_COST:-3}\"\n" +
            std::string(body),
        statenet_test::exec_dir / "env.toml");
    auto result = wf.process(Value::object());
    REQUIRE(result.ok);
    CHECK(result.data["greeting"].as_string() == "hello from env");
    CHECK(result.data["cost"].as_string() == "$3");
}

TEST_CASE("env - a missing variable fails the load at file:line:col; a secret value is never echoed") {
    ::unsetenv("STATENET_TEST_UNSET");
    Engine engine;
    try {
        engine.load_string(
            "name = \"env\"\n[vars]\ngreeting = \"${STATENET_TEST_UNSET}\"\ncost = 1\n" + std::string(body),
            "/tmp/env.toml");
        FAIL("the load should fail");
    } catch (const LoadError& e) {
        REQUIRE(e.diagnostics().size() == 1);
        CHECK(e.diagnostics()[0].str() ==
              "/tmp/env.toml:3:12: environment variable 'STATENET_TEST_UNSET' is not set (give a default with "
              "'${STATENET_TEST_UNSET:-...}')");
    }
    ::setenv("STATENET_TEST_SECRET", "sk-very-secret-token", 1);
    try {
        engine.load_string("name = \"env\"\ndata_mode = \"${STATENET_TEST_SECRET}\"\n" + std::string(body),
                           "/tmp/env.toml");
        FAIL("the load should fail");
    } catch (const LoadError& e) {
        const std::string text = e.what();
        CHECK(text.find("sk-very-secret-token") == std::string::npos);
        CHECK(text.find("${STATENET_TEST_SECRET}") != std::string::npos);
    }
}

TEST_CASE("env - a Lua workflow's string values expand too") {
    ::setenv("STATENET_TEST_LUA_GREETING", "hi from lua", 1);
    ::unsetenv("STATENET_TEST_LUA_UNSET");
    Engine engine;
    Workflow wf = engine.load(std::filesystem::path(STATENET_SOURCE_DIR) / "tests/workflows/load/env_vars.lua");
    auto result = wf.process(Value::object());
    REQUIRE(result.ok);
    CHECK(result.data["greeting"].as_string() == "hi from lua");
    CHECK(result.data["cost"].as_string() == "${STATENET_TEST_LUA_UNSET:-7}");  // $$ keeps the reference literal
}
