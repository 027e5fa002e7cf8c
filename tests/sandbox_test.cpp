// The Lua sandbox, the per-call limits and the isolation between records
// (docs/security.md), through the public API.
#include "test_paths.hpp"

#include <statenet/statenet.hpp>

#include <doctest/doctest.h>

#include <chrono>
#include <fstream>
#include <string>
#include <vector>

using statenet::Engine;
using statenet::EngineOptions;
using statenet::LoadError;
using statenet::Result;
using statenet::Value;
using statenet::Workflow;

namespace {

using statenet_test::sandbox_dir;

/// A one-state workflow whose transform is `fn` ("module.function"), plus `extra` TOML.
std::string one_state(const std::string& fn, const std::string& extra = "") {
    return "name = \"sandbox\"\n" + extra + "\n[networks.main.states.s]\nstart = true\nend = true\ntransform = \"" +
           fn + "\"\n";
}

Workflow load(Engine& engine, const std::string& toml) { return engine.load_string(toml, sandbox_dir / "test.toml"); }

Result run(const std::string& fn, const char* json = "{}", const std::string& extra = "") {
    Engine engine;
    return load(engine, one_state(fn, extra)).process(Value::from_json(json));
}

std::string error_of(const Result& r) { return r.error ? r.error->name + ": " + r.error->message : "(no error)"; }

std::string load_failure(Engine& engine, const std::filesystem::path& file) {
    try {
        engine.load(file);
    } catch (const LoadError& e) {
        return e.what();
    }
    return "(loaded)";
}

}  // namespace

TEST_CASE("sandbox - what workflow code cannot reach by default") {
    const std::vector<std::pair<std::string, std::string>> refused = {
        {"exit", "field 'exit'"},
        {"ffi_cast", "module 'ffi' is not available: the workflow does not trust 'ffi'"},
        {"io_open", "global 'io'"},
        {"execute", "field 'execute'"},
        {"getenv", "field 'getenv'"},
        {"loadlib", "global 'package'"},
        {"debug_registry", "global 'debug'"},
        {"dump", "field 'dump'"},
        {"method_dump", "field 'dump'"},
        {"bytecode", "binary chunks are not allowed"},
        {"jit_off", "global 'jit'"},
        {"getfenv", "global 'getfenv'"},
        {"internal", "module 'statenet.runtime' is internal to the engine"},
        {"collect", "only \"count\" is allowed"},
    };
    for (const auto& [fn, why] : refused) {
        CAPTURE(fn);
        const Result r = run("attacks." + fn);
        REQUIRE_FALSE(r.ok);
        CHECK(r.error->name == "LuaError");
        CHECK(r.error->message.find(why) != std::string::npos);
    }
    const Result allowed = run("attacks.allowed");
    REQUIRE(allowed.ok);
    CHECK(allowed.data == Value::from_json(R"({"answer": 42, "upper": "ABC", "floor": 2, "band": 2,
                                               "time": "number", "count": "number", "ok": true})"));
}

TEST_CASE("sandbox - a failed record does not stop the next one") {
    Engine engine;
    Workflow wf = load(engine, one_state("attacks.exit"));
    CHECK_FALSE(wf.process(Value::from_json("{}")).ok);
    Workflow fine = load(engine, one_state("attacks.allowed"));
    CHECK(fine.process(Value::from_json("{}")).ok);
}

TEST_CASE("sandbox - trust lets a workflow opt in, a strict host refuses it") {
    Engine engine;
    const Workflow trusting = engine.load(sandbox_dir / "trusting.lua");
    const Result r = trusting.process(Value::object());
    REQUIRE(r.ok);
    CHECK(r.data == Value::from_json(R"({"n": 42, "getenv": "function"})"));

    const Workflow toml = load(engine, one_state("attacks.getenv", "trust = [\"os\"]"));
    CHECK(toml.process(Value::object()).ok);

    Engine strict(EngineOptions{.strict_sandbox = true});
    const std::string lua_refusal = load_failure(strict, sandbox_dir / "trusting.lua");
    CHECK(lua_refusal.find("trusting.lua:5:3: the sandbox is strict") != std::string::npos);
    try {
        load(strict, one_state("attacks.getenv", "trust = [\"os\"]"));
        FAIL("a strict engine loaded a workflow that trusts os");
    } catch (const LoadError& e) {
        REQUIRE(e.diagnostics().size() == 1);
        CHECK(e.diagnostics()[0].str() == (sandbox_dir / "test.toml").string() +
                                              ":2:9: the sandbox is strict: this host lets no workflow opt out "
                                              "of it with 'trust'");
    }
}

TEST_CASE("sandbox - a strict host lets [limits] lower its limits, not raise them") {
    Engine strict(EngineOptions{.strict_sandbox = true, .call_limit_ms = 1000, .memory_limit_mb = 256});
    CHECK_NOTHROW(load(strict, one_state("attacks.allowed", "[limits]\ncall_ms = 500\nmemory_mb = 128")));
    try {
        load(strict, one_state("attacks.allowed", "[limits]\ncall_ms = 5000\nmemory_mb = 512"));
        FAIL("loaded");
    } catch (const LoadError& e) {
        REQUIRE(e.diagnostics().size() == 2);
        CHECK(e.diagnostics()[0].message ==
              "the sandbox is strict: 'limits.call_ms' may not exceed the host's 1000 ms");
        CHECK(e.diagnostics()[1].message ==
              "the sandbox is strict: 'limits.memory_mb' may not exceed the host's 256 MB");
    }
    Engine lenient(EngineOptions{.call_limit_ms = 1000});
    CHECK_NOTHROW(load(lenient, one_state("attacks.allowed", "[limits]\ncall_ms = 5000")));
}

TEST_CASE("sandbox - trust names are checked where they are written") {
    Engine engine;
    try {
        load(engine, one_state("attacks.allowed", "trust = [\"io\", \"oss\"]\n[limits]\ncall_msec = 5"));
        FAIL("loaded");
    } catch (const LoadError& e) {
        REQUIRE(e.diagnostics().size() == 2);
        CHECK(e.diagnostics()[0].line == 2);
        CHECK(e.diagnostics()[0].column == 16);
        CHECK(e.diagnostics()[0].message ==
              "unknown trust 'oss' (expected io, os, ffi, debug or jit) (did you mean 'os'?)");
        CHECK(e.diagnostics()[1].message == "unknown key 'call_msec' in limits (did you mean 'call_ms'?)");
    }
    CHECK(load_failure(engine, sandbox_dir / "trust_computed.lua").find("must be a literal list") != std::string::npos);
}

TEST_CASE("limits - an endless loop fails its record with Timeout and the next record runs") {
    Engine engine(EngineOptions{.call_limit_ms = 100});
    for (const char* fn : {"limits.loop", "limits.swallow", "limits.recurse"}) {
        CAPTURE(fn);
        Workflow wf = load(engine, one_state(fn));
        const auto started = std::chrono::steady_clock::now();
        const Result stuck = wf.process(Value::from_json(R"({"loop": true})"));
        const auto took = std::chrono::steady_clock::now() - started;
        REQUIRE_FALSE(stuck.ok);
        CHECK(stuck.error->name == "Timeout");
        CHECK(stuck.error->message.find((sandbox_dir / "limits.lua:").string()) == 0);
        CHECK(stuck.error->message.find("a Lua call ran longer than its limit of 100 ms") != std::string::npos);
        CHECK(took < std::chrono::seconds(5));
        const Result next = wf.process(Value::object());
        CHECK(next.ok);
        CHECK(next.data["done"].as_bool());
    }
}

TEST_CASE("limits - timeout_ms is a deadline inside a call too") {
    Engine engine;
    Workflow wf = load(engine, one_state("limits.loop", "timeout_ms = 150"));
    const Result r = wf.process(Value::from_json(R"({"loop": true})"));
    REQUIRE_FALSE(r.ok);
    CHECK(error_of(r).find("Timeout: ") == 0);
    CHECK(r.error->message.find("record exceeded timeout_ms = 150") != std::string::npos);
    CHECK(wf.process(Value::object()).ok);
}

TEST_CASE("limits - the workflow's [limits] call_ms wins over the engine's") {
    Engine engine(EngineOptions{.call_limit_ms = 60000});
    Workflow wf = load(engine, one_state("limits.loop", "[limits]\ncall_ms = 50"));
    const Result r = wf.process(Value::from_json(R"({"loop": true})"));
    REQUIRE_FALSE(r.ok);
    CHECK(r.error->message.find("limit of 50 ms") != std::string::npos);
}

TEST_CASE("limits - a memory bomb fails its record with OutOfMemory and the VM goes on") {
    Engine engine;
    for (const char* fn : {"limits.bomb", "limits.list_bomb"}) {
        CAPTURE(fn);
        Workflow wf = load(engine, one_state(fn, "[limits]\nmemory_mb = 64"));
        const Result r = wf.process(Value::from_json(R"({"bomb": true})"));
        REQUIRE_FALSE(r.ok);
        CHECK(r.error->name == "OutOfMemory");
        for (int i = 0; i < 3; ++i) CHECK(wf.process(Value::object()).ok);
    }
}

TEST_CASE("limits - a Lua workflow that loops at load fails to load") {
    Engine engine(EngineOptions{.call_limit_ms = 100});
    const std::string failure = load_failure(engine, sandbox_dir / "loops_at_load.lua");
    CHECK(failure.find("loops_at_load.lua:3: the workflow's Lua ran longer than 100 ms while loading") !=
          std::string::npos);
}

TEST_CASE("isolation - ctx.vars and ctx stay as they were for the next record") {
    Engine engine;
    Workflow wf = load(engine, one_state("isolation.rawset_vars", "[vars]\nx = 0"));
    for (int id = 1; id <= 2; ++id) {
        const Result r = wf.process(Value::object({{"id", id}}));
        REQUIRE(r.ok);
        CHECK(r.data["x"].as_int() == 0);
    }
    Workflow set_ctx = load(engine, one_state("isolation.set_ctx", "[vars]\nx = 0"));
    for (int id = 1; id <= 2; ++id) {
        const Result r = set_ctx.process(Value::object({{"id", id}}));
        REQUIRE(r.ok);
        CHECK_FALSE(r.data["ctx_writable"].as_bool());
        CHECK(r.data["x"].as_int() == 0);
    }
}

TEST_CASE("isolation - globals, the string metatable and record views do not outlive a record") {
    Engine engine;
    Workflow globals = load(engine, one_state("isolation.global"));
    for (int id = 1; id <= 3; ++id) {
        const Result r = globals.process(Value::object({{"id", id}}));
        REQUIRE(r.ok);
        CHECK(r.data["seen"].is_null());
        CHECK(r.data["raw_seen"].as_int() == id);
    }
    Workflow strings = load(engine, one_state("isolation.string_metatable"));
    for (int i = 0; i < 2; ++i) {
        const Result r = strings.process(Value::object());
        REQUIRE(r.ok);
        CHECK(r.data["mt"].as_string() == "false");
        CHECK(r.data["upper"].as_string() == "ABC");
    }
    Workflow views = load(engine, one_state("isolation.record_view"));
    for (int id = 1; id <= 2; ++id) {
        const Result r = views.process(Value::object({{"id", id}}));
        REQUIRE(r.ok);
        CHECK(r.data["before"].is_null());
        CHECK(r.data["planted"].as_int() == id);
        CHECK(r.data["view_mt"].as_string() == "false");
        CHECK(r.data["array_mt"].as_string() == "false");
    }
}

TEST_CASE("limits - a Timeout from the call limit is record-level: on_error does not catch it") {
    Engine engine(EngineOptions{.call_limit_ms = 100});
    Workflow wf = load(engine, R"(
name = "caught"
[networks.main.states.s]
start = true
transform = "limits.loop"
on_error = [{ errors = ["*"], to = "handled" }]
[[networks.main.states.s.arcs]]
to = "handled"
[networks.main.states.handled]
end = true
)");
    const Result r = wf.process(Value::from_json(R"({"loop": true})"));
    REQUIRE_FALSE(r.ok);
    CHECK(r.error->name == "Timeout");
    CHECK(r.final_state == "main/s");
}

namespace {

long resident_kb() {
    std::ifstream status("/proc/self/status");
    std::string line;
    while (std::getline(status, line))
        if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
    return 0;
}

}  // namespace

TEST_CASE("limits - a closed VM gives its memory back") {
    // The counting allocator stands in for LuaJIT's own while a VM lives; LuaJIT frees
    // its arenas at close only through its own allocator (each load here leaked ~230 KB
    // when it did not get it back).
    statenet::Engine engine;
    const std::string toml = "name = 'm'\n[networks.main.states.a]\nstart = true\nend = true\n";
    for (int i = 0; i < 50; ++i) engine.load_string(toml, "m.toml");
    const long before = resident_kb();
    for (int i = 0; i < 400; ++i) engine.load_string(toml, "m.toml");
    CHECK(resident_kb() - before < 20 * 1024);
}
