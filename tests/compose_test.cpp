// Workflow composition: extends, include, profiles, params and instance files, with
// located errors for cycles, conflicts, unknown profiles and bad params.
#include <statenet/statenet.hpp>

#include <doctest/doctest.h>

#include <cstdlib>
#include <filesystem>
#include <string>

using statenet::Engine;
using statenet::LoadError;
using statenet::LoadOptions;
using statenet::Value;

namespace {

const std::filesystem::path dir = std::filesystem::path(STATENET_SOURCE_DIR) / "tests/workflows/compose";

Value run(const std::string& file, const LoadOptions& options) {
    Engine engine;
    auto wf = engine.load(dir / file, options);
    auto result = wf.process(Value::object({{"n", 5}}));
    REQUIRE(result.ok);
    return result.data;
}

/// Every diagnostic of a load that must fail, one per line.
std::string load_errors(const std::string& file, const LoadOptions& options = {}) {
    Engine engine;
    try {
        engine.load(dir / file, options);
    } catch (const LoadError& e) {
        std::string text;
        for (const auto& d : e.diagnostics()) text += d.str() + "\n";
        return text;
    }
    FAIL("the workflow loaded");
    return {};
}

LoadOptions with_label(const char* label) {
    LoadOptions options;
    options.params["label"] = Value(label);
    return options;
}

}  // namespace

TEST_CASE("compose - extends, include and the file itself merge in order; params reach ctx and strings") {
    const Value data = run("child.toml", with_label("gold"));
    CHECK(data["label"].as_string() == "gold");
    CHECK(data["scaled"].as_int() == 10);  // factor's default
    CHECK(data["level"].as_string() == "child");
    CHECK(data["region"].as_string() == "eu");
    CHECK(data["word"].as_string() == "gold-word");  // ${params.label} interpolated in an included file
}

TEST_CASE("compose - a param given as text is read as its declared type") {
    LoadOptions options = with_label("x");
    options.params["factor"] = Value("7");
    CHECK(run("child.toml", options)["scaled"].as_int() == 35);
    options.params["factor"] = Value("seven");
    const std::string errors = load_errors("child.toml", options);
    CHECK(errors.find("base.toml:10:1: param 'factor' must be an int; --param gave 'seven'") != std::string::npos);
}

TEST_CASE("compose - a missing required param and an unknown one are located errors") {
    const std::string errors = load_errors("child.toml", {});
    CHECK(errors.find("base.toml:5:1: param 'label' is required") != std::string::npos);
    LoadOptions options = with_label("x");
    options.params["lable"] = Value("y");
    CHECK(load_errors("child.toml", options).find("unknown param 'lable'") != std::string::npos);
}

TEST_CASE("compose - a profile overlays the composed workflow; an unknown one is an error") {
    LoadOptions options = with_label("x");
    options.profile = "prod";
    const Value data = run("child.toml", options);
    CHECK(data["level"].as_string() == "prod");
    CHECK(data["region"].as_string() == "us");
    options.profile = "prd";
    const std::string errors = load_errors("child.toml", options);
    CHECK(errors.find("unknown profile 'prd' (defined: prod)") != std::string::npos);
    CHECK(errors.find("did you mean 'prod'") != std::string::npos);
}

TEST_CASE("compose - STATENET_PROFILE chooses the profile when none is given") {
    ::setenv("STATENET_PROFILE", "prod", 1);
    const Value data = run("child.toml", with_label("x"));
    // A workflow without [profiles] ignores the variable.
    const Value base = run("base.toml", with_label("x"));
    ::unsetenv("STATENET_PROFILE");
    CHECK(data["level"].as_string() == "prod");
    CHECK(base["level"].as_string() == "base");
}

TEST_CASE("compose - an instance file gives the params of the workflow it names") {
    const Value data = run("instance.toml", {});
    CHECK(data["label"].as_string() == "inst");
    CHECK(data["scaled"].as_int() == 15);
    LoadOptions options;
    options.params["factor"] = Value(4);  // the host's value wins
    CHECK(run("instance.toml", options)["scaled"].as_int() == 20);
}

TEST_CASE("compose - a cycle of extends is a located error") {
    const std::string errors = load_errors("cycle_a.toml");
    CHECK(errors.find("cycle_b.toml:1:11: 'extends' makes a cycle:") != std::string::npos);
}

TEST_CASE("compose - two includes setting one value differently conflict") {
    const std::string errors = load_errors("conflict.toml", with_label("x"));
    CHECK(errors.find("other_vars.toml:2:1: 'vars.word' conflicts with the value set at") != std::string::npos);
}

TEST_CASE("compose - std:NAME that names no pattern lists the ones there are") {
    Engine engine;
    CHECK_THROWS_WITH_AS(engine.load("std:no-such-pattern"), doctest::Contains("unknown pattern 'std:no-such-pattern'"),
                         LoadError);
}
