// The http and llm resources against FakeApi on 127.0.0.1: round trips through
// workflows, auth, timeouts, retries, Retry-After, the breaker, the rate limit,
// keep-alive, chat/embeddings and the loader's located errors.
#include "resources/http/curl_multi.hpp"
#include "servers/fake_api.hpp"
#include "temp_dir.hpp"

#include <statenet/statenet.hpp>

#include <doctest/doctest.h>

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>

using statenet::Engine;
using statenet::Result;
using statenet::Value;
using statenet::Workflow;

namespace {

statenet_test::FakeApi& api() {
    setenv("no_proxy", "127.0.0.1", 1);  // a proxy from the environment must not see the test traffic
    static statenet_test::FakeApi server;
    static const int port = server.start();
    (void)port;
    return server;
}

// A workflow with one `http` resource named api (extra keys in `config`) whose single
// state runs `code` as its transform.
std::string http_workflow(const std::string& config, const std::string& code, const std::string& extra = "") {
    return "name = \"http\"\n" + extra + "[resources.api]\ntype = \"http\"\nbase_url = \"" + api().base_url() + "\"\n" +
           config +
           "\n[networks.main.states.call]\nstart = true\nend = true\nresources = [\"api\"]\ntransform = { lua = '''" +
           code + "''' }\n";
}

Workflow load(Engine& engine, const std::string& text) { return engine.load_string(text, "http.toml"); }

double ms_since(std::chrono::steady_clock::time_point start) {
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

TEST_CASE("http - GET and POST JSON round trip through a workflow") {
    Engine engine;
    Workflow wf = load(engine, http_workflow("", R"(
local item = ctx.resources.api:get("/items/" .. data.id)
data.name = item.json.name
data.price = item.json.price
data.type = item.headers["content-type"]
local echo = ctx.resources.api:post("/echo", { json = { id = data.id, tags = { "a", "b" } } })
data.status = echo.status
data.method = echo.json.method
data.sent = echo.json.json
)"));
    Result r = wf.process(Value::from_json(R"({"id": 7})"));
    REQUIRE_MESSAGE(r.ok, (r.error ? r.error->message : ""));
    CHECK(r.data["name"].as_string() == "item-7");
    CHECK(r.data["price"].as_number() == doctest::Approx(10.5));
    CHECK(r.data["type"].as_string() == "application/json");
    CHECK(r.data["status"].as_int() == 200);
    CHECK(r.data["method"].as_string() == "POST");
    CHECK(r.data["sent"].to_json() == R"({"id":7,"tags":["a","b"]})");
}

TEST_CASE("http - put, patch, delete and request carry query, headers and body") {
    Engine engine;
    Workflow wf = load(engine, http_workflow("headers = { \"X-Default\" = \"d1\" }", R"(
local api = ctx.resources.api
local p = api:request("patch", "/echo", { query = { q = "a b&c", n = 2 }, headers = { ["X-Trace"] = "t1" }, body = "raw" })
data.method = p.json.method
data.q = p.json.query.q
data.n = p.json.query.n
data.trace = p.json.headers["x-trace"]
data.default = p.json.headers["x-default"]
data.body = p.json.body
data.put = api:put("/echo", { json = { x = 1 } }).json.method
data.delete = api:delete("/echo").json.method
data.override = api:get("/echo", { headers = { ["X-Default"] = "mine" } }).json.headers["x-default"]
local missing = api:get("/items/404", { raise = false })
data.missing = missing.status
)"));
    Result r = wf.process(Value::object());
    REQUIRE_MESSAGE(r.ok, (r.error ? r.error->message : ""));
    CHECK(r.data["method"].as_string() == "PATCH");
    CHECK(r.data["q"].as_string() == "a b&c");
    CHECK(r.data["n"].as_string() == "2");
    CHECK(r.data["trace"].as_string() == "t1");
    CHECK(r.data["default"].as_string() == "d1");
    CHECK(r.data["body"].as_string() == "raw");
    CHECK(r.data["put"].as_string() == "PUT");
    CHECK(r.data["delete"].as_string() == "DELETE");
    CHECK(r.data["override"].as_string() == "mine");
    CHECK(r.data["missing"].as_int() == 404);
}

TEST_CASE("http - a 4xx raises HttpError with the status and a body excerpt") {
    Engine engine;
    Workflow wf = load(engine, http_workflow("", "ctx.resources.api:get('/items/404?secret=q')"));
    Result r = wf.process(Value::object());
    REQUIRE_FALSE(r.ok);
    CHECK(r.error->name == "HttpError");
    CHECK(r.error->message == R"(http.toml:10: api: GET /items/404: HTTP 404: {"error":"not found"})");
}

TEST_CASE("http - auth secrets reach the server but never an error or the history") {
    setenv("STATENET_TEST_TOKEN", "s3cret-token-4711", 1);
    setenv("STATENET_TEST_PASSWORD", "pa55-word-0815", 1);
    statenet_test::TempDir dir("statenet_http_auth");
    Engine engine;
    const std::string history = "[history]\nlevel = \"full\"\ndb = \"" + (dir / "h.db").string() + "\"\n";
    const std::string bearer_auth = "retries = 0\nauth = { type = \"bearer\", token_env = \"STATENET_TEST_TOKEN\" }";
    Workflow bearer = load(
        engine, http_workflow(bearer_auth, "data.auth = ctx.resources.api:get('/echo').json.headers.authorization"));
    Result ok = bearer.process(Value::object());
    REQUIRE(ok.ok);
    CHECK(ok.data["auth"].as_string() == "Bearer s3cret-token-4711");

    // The server echoes the header in its error body: the message shows it redacted.
    Workflow recorded = load(engine, http_workflow(bearer_auth, R"(
data.sent = #ctx.resources.api:get("/echo").json.headers.authorization
ctx.resources.api:get("/echo?status=500")
)",
                                                   history));
    Result failed = recorded.process(Value::object());
    REQUIRE_FALSE(failed.ok);
    CHECK(failed.error->name == "HttpError");
    CHECK(failed.error->message.find("http.toml:16: api: GET /echo: HTTP 500: ") == 0);
    CHECK(failed.error->message.find("Bearer ***") != std::string::npos);
    CHECK(failed.error->message.find("s3cret") == std::string::npos);
    recorded.flush_history();
    std::stringstream bytes;
    for (const char* file : {"h.db", "h.db-wal"}) {
        std::ifstream in(dir / file, std::ios::binary);
        bytes << in.rdbuf();
    }
    CHECK(bytes.str().find("s3cret") == std::string::npos);
    CHECK(bytes.str().find("Bearer ***") != std::string::npos);  // the failure itself is recorded

    Workflow basic =
        load(engine,
             http_workflow("auth = { type = \"basic\", username = \"ann\", password_env = \"STATENET_TEST_PASSWORD\" }",
                           "data.auth = ctx.resources.api:get('/echo').json.headers.authorization"));
    Result b = basic.process(Value::object());
    REQUIRE(b.ok);
    CHECK(b.data["auth"].as_string() == "Basic YW5uOnBhNTUtd29yZC0wODE1");  // base64("ann:pa55-word-0815")

    Workflow key =
        load(engine,
             http_workflow("auth = { type = \"api_key\", header = \"X-Api-Key\", key_env = \"STATENET_TEST_TOKEN\" }",
                           "data.key = ctx.resources.api:get('/echo').json.headers['x-api-key']"));
    Result k = key.process(Value::object());
    REQUIRE(k.ok);
    CHECK(k.data["key"].as_string() == "s3cret-token-4711");
}

TEST_CASE("http - a timeout fails the record with Timeout and the next record succeeds") {
    Engine engine;
    Workflow wf = load(engine, http_workflow("timeout_ms = 150",
                                             "data.slept = ctx.resources.api:get('/delay/' .. data.ms).json.slept"));
    const auto start = std::chrono::steady_clock::now();
    Result slow = wf.process(Value::object({{"ms", 1500}}));
    CHECK(ms_since(start) < 1000);
    REQUIRE_FALSE(slow.ok);
    CHECK(slow.error->name == "Timeout");
    CHECK(slow.error->message.find("http.toml:10: api: GET /delay/1500: timed out after 150 ms") == 0);
    Result fast = wf.process(Value::object({{"ms", 0}}));
    REQUIRE(fast.ok);
    CHECK(fast.data["slept"].as_int() == 0);
    // A call's own timeout_ms overrides the resource's.
    Workflow patient =
        load(engine, http_workflow("timeout_ms = 50", "ctx.resources.api:get('/delay/120', { timeout_ms = 2000 })"));
    CHECK(patient.process(Value::object()).ok);
}

TEST_CASE("http - 5xx answers are retried with backoff until one succeeds") {
    Engine engine;
    Workflow wf =
        load(engine,
             http_workflow("retries = 3\nbackoff_ms = 10",
                           "data.attempts = ctx.resources.api:get('/flaky/' .. data.key .. '?fail=2').json.attempts"));
    Result r = wf.process(Value::object({{"key", "retry_ok"}}));
    REQUIRE_MESSAGE(r.ok, (r.error ? r.error->message : ""));
    CHECK(r.data["attempts"].as_int() == 3);
    auto stats = wf.resource_stats();
    REQUIRE(stats.size() == 1);
    CHECK(stats[0].name == "api");
    CHECK(stats[0].calls == 1);
    CHECK(stats[0].retries == 2);
    CHECK(stats[0].errors == 0);

    Workflow short_of = load(engine, http_workflow("retries = 1\nbackoff_ms = 10",
                                                   "ctx.resources.api:get('/flaky/' .. data.key .. '?fail=2')"));
    Result failed = short_of.process(Value::object({{"key", "retry_short"}}));
    REQUIRE_FALSE(failed.ok);
    CHECK(failed.error->name == "HttpError");
    CHECK(failed.error->message == "http.toml:11: api: GET /flaky/retry_short: HTTP 500: flaky failure 2");
    CHECK(short_of.resource_stats()[0].errors == 1);
}

TEST_CASE("http - a 429 waits out Retry-After, or fails when that is longer than max_backoff_ms") {
    Engine engine;
    Workflow wf = load(
        engine, http_workflow(
                    "retries = 2\nbackoff_ms = 10",
                    "data.attempts = ctx.resources.api:get('/limited/' .. data.key .. '?n=1&after=1').json.attempts"));
    auto start = std::chrono::steady_clock::now();
    Result r = wf.process(Value::object({{"key", "honoured"}}));
    const double waited = ms_since(start);
    REQUIRE_MESSAGE(r.ok, (r.error ? r.error->message : ""));
    CHECK(r.data["attempts"].as_int() == 2);
    CHECK(waited >= 990);
    CHECK(waited < 1800);

    Workflow impatient =
        load(engine, http_workflow("retries = 2\nmax_backoff_ms = 500",
                                   "ctx.resources.api:get('/limited/' .. data.key .. '?n=1&after=5')"));
    start = std::chrono::steady_clock::now();
    Result failed = impatient.process(Value::object({{"key", "too_long"}}));
    CHECK(ms_since(start) < 500);
    REQUIRE_FALSE(failed.ok);
    CHECK(failed.error->name == "HttpError");
    CHECK(
        failed.error->message ==
        "http.toml:11: api: GET /limited/too_long: HTTP 429 (Retry-After 5 s exceeds max_backoff_ms = 500): slow down");
}

TEST_CASE("http - the breaker opens after N failures and half-opens after the cool-down") {
    Engine engine;
    Workflow wf = load(engine, http_workflow("retries = 0\nbreaker_failures = 3\nbreaker_cooldown_ms = 300",
                                             "ctx.resources.api:get('/down')"));
    api().set_down(true);
    for (int i = 0; i < 3; ++i) {
        Result r = wf.process(Value::object());
        REQUIRE_FALSE(r.ok);
        CHECK(r.error->name == "HttpError");
    }
    CHECK(wf.resource_stats()[0].health == "open");
    const int seen = api().requests();
    Result refused = wf.process(Value::object());
    REQUIRE_FALSE(refused.ok);
    CHECK(refused.error->name == "CircuitOpen");
    CHECK(refused.error->message == "http.toml:12: api: GET /down: circuit breaker open after 3 consecutive failures");
    CHECK(api().requests() == seen);  // refused without a request
    api().set_down(false);
    std::this_thread::sleep_for(std::chrono::milliseconds(350));
    CHECK(wf.resource_stats()[0].health == "half-open");
    Result trial = wf.process(Value::object());
    CHECK(trial.ok);
    CHECK(wf.resource_stats()[0].health == "closed");
    CHECK(wf.process(Value::object()).ok);
}

TEST_CASE("http - a half-open breaker asks health_url before its trial call") {
    Engine engine;
    Workflow wf = load(
        engine, http_workflow("retries = 0\nbreaker_failures = 1\nbreaker_cooldown_ms = 100\nhealth_url = \"/health\"",
                              "ctx.resources.api:get('/down')"));
    api().set_down(true);
    CHECK(wf.process(Value::object()).error->name == "HttpError");
    std::this_thread::sleep_for(std::chrono::milliseconds(150));
    const int seen = api().requests();
    Result probed = wf.process(Value::object());
    REQUIRE_FALSE(probed.ok);
    CHECK(probed.error->name == "CircuitOpen");
    CHECK(probed.error->message == "http.toml:13: api: GET /down: circuit breaker open (health check failed)");
    CHECK(api().requests() == seen + 1);  // the health check, not the call
    api().set_down(false);
    std::this_thread::sleep_for(std::chrono::milliseconds(150));
    CHECK(wf.process(Value::object()).ok);
}

TEST_CASE("http - the rate limit spaces calls, and raises RateLimited past the timeout") {
    Engine engine;
    Workflow wf = load(engine, http_workflow("rate_per_s = 20\nburst = 1",
                                             "for i = 1, 6 do ctx.resources.api:get('/items/' .. i) end"));
    const auto start = std::chrono::steady_clock::now();
    Result r = wf.process(Value::object());
    const double took = ms_since(start);
    REQUIRE_MESSAGE(r.ok, (r.error ? r.error->message : ""));
    CHECK(took >= 240);  // 5 gaps of 50 ms after the first call
    CHECK(took < 1000);

    Workflow strict =
        load(engine, http_workflow("rate_per_s = 1\nburst = 1\ntimeout_ms = 200",
                                   "ctx.resources.api:get('/items/1'); ctx.resources.api:get('/items/2')"));
    Result limited = strict.process(Value::object());
    REQUIRE_FALSE(limited.ok);
    CHECK(limited.error->name == "RateLimited");
    CHECK(limited.error->message ==
          "http.toml:12: api: GET /items/2: the rate limit (rate_per_s = 1) would hold the call past its timeout");
}

TEST_CASE("http - keep-alive reuses connections; keep_alive = false opens one per call") {
    Engine engine;
    const std::string loop = "for i = 1, 20 do ctx.resources.api:get('/items/' .. i) end";
    Workflow pooled = load(engine, http_workflow("", loop));
    api().reset();
    REQUIRE(pooled.process(Value::object()).ok);
    CHECK(api().requests() == 20);
    CHECK(api().connections() <= 1);

    Workflow fresh = load(engine, http_workflow("keep_alive = false", loop));
    api().reset();
    REQUIRE(fresh.process(Value::object()).ok);
    CHECK(api().requests() == 20);
    CHECK(api().connections() == 20);
}

TEST_CASE("http - max_concurrent holds calls across workers to the limit") {
    Engine engine;
    Workflow wf = load(engine, http_workflow("max_concurrent = 1", "ctx.resources.api:get('/delay/100')"));
    std::vector<Value> records(4, Value::object());
    const auto start = std::chrono::steady_clock::now();
    auto results = wf.process_batch(records, {.workers = 4});
    for (const auto& r : results) CHECK(r.ok);
    CHECK(ms_since(start) >= 390);  // one at a time
}

TEST_CASE("http - one thread's transfers all progress while any of them waits, and timers wake on time") {
    using statenet::detail::CurlMulti;
    using statenet::detail::Transfer;
    CurlMulti& multi = CurlMulti::for_thread();
    auto start = [&](Transfer& t, const std::string& path) {
        t.easy = multi.take_easy();
        curl_easy_setopt(t.easy, CURLOPT_URL, (api().base_url() + path).c_str());
        curl_easy_setopt(
            t.easy, CURLOPT_WRITEFUNCTION,
            +[](char*, std::size_t size, std::size_t count, void*) { return size * count; });
        multi.start(t);
    };
    Transfer slow, fast;
    start(slow, "/delay/400");
    start(fast, "/delay/50");
    // As two in-flight records would: each waits for its own transfer on the one handle.
    statenet::detail::wait_for([&] { return fast.done; }, multi);
    CHECK(fast.result == CURLE_OK);
    CHECK_FALSE(slow.done);
    // A backoff wait while the slow transfer runs wakes at its deadline, not at the transfer's end.
    const auto began = std::chrono::steady_clock::now();
    multi.sleep_until(began + std::chrono::milliseconds(30));
    CHECK(ms_since(began) >= 29);
    CHECK(ms_since(began) < 95);  // a poll without the deadline would sleep its whole 100 ms
    CHECK_FALSE(slow.done);
    statenet::detail::wait_for([&] { return slow.done; }, multi);
    CHECK(slow.result == CURLE_OK);
    multi.give_easy(slow.easy);
    multi.give_easy(fast.easy);
}

TEST_CASE("http - records in flight on one worker overlap their requests") {
    Engine engine;
    Workflow wf = load(
        engine, http_workflow("", "data.slept = ctx.resources.api:get('/delay/200').json.slept", "in_flight = 16\n"));
    std::vector<Value> records(16, Value::object());
    const auto start = std::chrono::steady_clock::now();
    auto results = wf.process_batch(records, {.workers = 1});
    const double took = ms_since(start);
    for (const auto& r : results) CHECK(r.ok);
    CHECK(took < 1500);  // one after another: 3200 ms
    CHECK(wf.resource_stats()[0].calls == 16);
}

// ---- llm ----

namespace {

std::string llm_workflow(const std::string& config, const std::string& code) {
    return "name = \"llm\"\n[resources.llm]\ntype = \"llm\"\nbase_url = \"" + api().base_url() +
           "\"\nmodel = \"fake-model\"\n" + config +
           "\n[networks.main.states.ask]\nstart = true\nend = true\nresources = [\"llm\"]\ntransform = { lua = '''" +
           code + "''' }\n";
}

}  // namespace

TEST_CASE("llm - chat answers text, fills templates and sums token usage per record") {
    Engine engine;
    Workflow wf =
        load(engine, llm_workflow("system = \"be brief\"\nprompt = \"Summarize {{title}} by {{author.name}}\"", R"(
local a = ctx.resources.llm:chat("hello there world")
data.text = a.text
data.prompt_tokens = a.usage.prompt_tokens
data.completion_tokens = a.usage.completion_tokens
data.templated = ctx.resources.llm:chat(data).text
data.messages = ctx.resources.llm:chat({ { role = "system", content = "x" }, { role = "user", content = "hi {{no}}" } }).text
data.vars = ctx.resources.llm:chat("Hi {{name}}", { vars = { name = "Ann" } }).text
)"));
    Result r = wf.process(Value::from_json(R"({"title": "Dune", "author": {"name": "Herbert"}})"));
    REQUIRE_MESSAGE(r.ok, (r.error ? r.error->message : ""));
    CHECK(r.data["text"].as_string() == "echo: hello there world");
    CHECK(r.data["prompt_tokens"].as_int() == 5);      // "be brief" + three words
    CHECK(r.data["completion_tokens"].as_int() == 4);  // "echo: hello there world"
    CHECK(r.data["templated"].as_string() == "echo: Summarize Dune by Herbert");
    CHECK(r.data["messages"].as_string() == "echo: hi {{no}}");
    CHECK(r.data["vars"].as_string() == "echo: Hi Ann");
    // 5+4, 6+5, 3+3, 4+3
    CHECK(r.usage.prompt_tokens == 18);
    CHECK(r.usage.completion_tokens == 15);
    CHECK(r.to_value()["usage"].to_json() == R"({"prompt_tokens":18,"completion_tokens":15})");
    Result again = wf.process(Value::from_json(R"({"title": "Emma", "author": {"name": "Austen"}})"));
    CHECK(again.usage.prompt_tokens == 18);  // per record, not cumulative
    auto stats = wf.resource_stats();
    REQUIRE(stats.size() == 1);
    CHECK(stats[0].type == "llm");
    CHECK(stats[0].calls == 8);
    CHECK(stats[0].tokens.prompt_tokens == 36);

    Result missing = wf.process(Value::from_json(R"({"title": "Dune"})"));
    REQUIRE_FALSE(missing.ok);
    CHECK(missing.error->name == "ResourceError");
    CHECK(missing.error->message ==
          "http.toml:17: llm: the prompt template uses '{{author.name}}', which the record does not have");
}

TEST_CASE("llm - JSON mode parses the answer and checks required keys") {
    Engine engine;
    Workflow wf = load(engine, llm_workflow("response_format = \"json\"\nrequired_keys = [\"answer\"]",
                                            "data.out = ctx.resources.llm:chat(data.q).json"));
    Result r = wf.process(Value::object({{"q", "two words"}}));
    REQUIRE_MESSAGE(r.ok, (r.error ? r.error->message : ""));
    CHECK(r.data["out"].to_json() == R"({"answer":"two words","words":2})");
    Result fenced = wf.process(Value::object({{"q", "FENCE me"}}));
    REQUIRE(fenced.ok);
    CHECK(fenced.data["out"]["words"].as_int() == 2);
    Result bad = wf.process(Value::object({{"q", "BADJSON please"}}));
    REQUIRE_FALSE(bad.ok);
    CHECK(bad.error->name == "InvalidOutput");
    CHECK(bad.error->message == "http.toml:12: llm: the model's answer is not JSON: this is not json");

    Workflow keys = load(engine, llm_workflow("response_format = \"json\"\nrequired_keys = [\"verdict\"]",
                                              "data.out = ctx.resources.llm:chat(data.q).json"));
    Result lacking = keys.process(Value::object({{"q", "x"}}));
    REQUIRE_FALSE(lacking.ok);
    CHECK(lacking.error->name == "InvalidOutput");
    CHECK(lacking.error->message == "http.toml:12: llm: the model's JSON answer lacks the required key 'verdict'");
}

TEST_CASE("llm - embed returns one vector per text") {
    Engine engine;
    Workflow wf = load(engine, llm_workflow("", R"(
local v = ctx.resources.llm:embed({ "aaaa", "hello world" })
data.count = #v
data.dim = #v[1]
data.first = v[1]
local one = ctx.resources.llm:embed("aaaa")
data.same = one[1][2] == v[1][2]
)"));
    Result r = wf.process(Value::object());
    REQUIRE_MESSAGE(r.ok, (r.error ? r.error->message : ""));
    CHECK(r.data["count"].as_int() == 2);
    CHECK(r.data["dim"].as_int() == 8);
    // 'a' is 97, 97 % 8 = 1: all weight in component 1 (Lua index 2).
    CHECK(r.data["first"].to_json() == "[0,1,0,0,0,0,0,0]");
    CHECK(r.data["same"].as_bool());
    CHECK(r.usage.prompt_tokens == 4);  // 1 + 2 words, then 1
}

TEST_CASE("http - bad resource config is reported at file:line:col") {
    unsetenv("STATENET_TEST_UNSET");
    Engine engine;
    const std::string text = R"(name = "bad"
[resources.api]
type = "http"
base_url = "ftp://example"
retires = 3
timeout_ms = -1
auth = { type = "bearer", token_env = "STATENET_TEST_UNSET" }
[resources.other]
type = "http"
base_url = "http://127.0.0.1:1"
auth = { type = "digest" }
[resources.llm]
type = "llm"
base_url = "http://127.0.0.1:1"
response_format = "yaml"
[networks.main.states.s]
start = true
end = true
)";
    try {
        engine.load_string(text, "bad.toml");
        FAIL("expected a LoadError");
    } catch (const statenet::LoadError& e) {
        std::string all;
        for (const auto& d : e.diagnostics()) all += d.str() + "\n";
        CHECK(all.find("bad.toml:4:12: 'base_url' must start with http:// or https:// (got 'ftp://example')") !=
              std::string::npos);
        CHECK(all.find("bad.toml:5:1: unknown key 'retires' in resource 'api' (did you mean 'retries'?)") !=
              std::string::npos);
        CHECK(all.find("bad.toml:6:14: 'timeout_ms' must be a positive number of milliseconds") != std::string::npos);
        CHECK(all.find("bad.toml:7:39: environment variable 'STATENET_TEST_UNSET' is not set") != std::string::npos);
        CHECK(all.find("bad.toml:11:17: unknown auth type 'digest' (expected bearer, basic or api_key)") !=
              std::string::npos);
        CHECK(all.find("bad.toml:12:1: missing required key 'model'") != std::string::npos);
        CHECK(all.find("bad.toml:15:19: unknown response_format 'yaml' (expected text or json)") != std::string::npos);
    }
}
