// The declarations of network resources: `type = "http"` and `type = "llm"` (the LLM
// client runs over the same HTTP machinery, so it carries an HttpConfig too).
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace statenet::detail {

/// How requests authenticate. Secrets are never in the model: only the names of the
/// environment variables that hold them, read when the client is created.
struct HttpAuth {
    enum class Kind { none, bearer, basic, api_key };
    Kind kind = Kind::none;
    std::string token_env;             // bearer: the token; api_key: the key
    std::string username;              // basic
    std::string password_env;          // basic
    std::string header = "X-API-Key";  // api_key: the header that carries the key
};

struct HttpConfig {
    std::string base_url;                                      // requests' paths are appended to it
    std::vector<std::pair<std::string, std::string>> headers;  // sent with every request
    HttpAuth auth;
    double connect_timeout_ms = 5000;
    double timeout_ms = 30000;  // per attempt; a call may override it
    int retries = 2;            // after the first attempt: connection errors, 5xx, 429
    double backoff_ms = 100;    // first retry's delay, doubled each time
    double max_backoff_ms = 5000;
    double rate_per_s = 0;     // token bucket refill; 0 = no limit
    double burst = 0;          // bucket size; 0 = max(1, rate_per_s)
    int max_concurrent = 0;    // requests in flight across the workflow's workers; 0 = no limit
    bool keep_alive = true;    // false: a new connection per request (benchmarks, odd servers)
    int breaker_failures = 5;  // consecutive failures that open the breaker; 0 = no breaker
    double breaker_cooldown_ms = 30000;
    std::string health_url;  // probed (GET, 2xx = healthy) before a half-open breaker lets a call through
};

/// `type = "llm"`: an OpenAI-compatible chat/completions and embeddings endpoint.
struct LlmConfig {
    std::string model;
    std::string embedding_model;  // defaults to `model`
    std::optional<double> temperature;
    std::optional<int> max_tokens;
    std::string system;                      // system prompt put before the messages
    std::string prompt;                      // template: chat(record) fills {{field}} from the record
    bool json_output = false;                // response_format = "json": the answer must parse as JSON
    std::vector<std::string> required_keys;  // json output: keys the answer's object must have
};

}  // namespace statenet::detail
