// LlmClient: an `llm` resource — OpenAI-compatible /v1/chat/completions and
// /v1/embeddings over an HttpClient (so it has the same retries, breaker, rate limit,
// waits and counters). Thread-safe; its calls wait through wait_for() like HTTP calls.
// Errors are ResourceFailure: those of HttpClient, InvalidOutput (JSON mode: the answer does
// not parse or lacks a required key), ResourceError (a bad call or an odd reply).
#pragma once

#include "model/http_config.hpp"
#include "resources/http/http_client.hpp"

#include <statenet/value.hpp>

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace statenet::detail {

struct ChatOptions {
    std::optional<std::string> model;
    std::optional<std::string> system;
    std::optional<double> temperature;
    std::optional<int> max_tokens;
    std::optional<bool> json_output;
    double timeout_ms = 0;
};

struct ChatReply {
    std::string text;
    Value json;  // the parsed answer in JSON mode, else null
    TokenUsage usage;
};

/// Fills `{{field}}` (or `{{ a.b }}`) from `fields`; throws ResourceFailure (ResourceError)
/// naming a field the record lacks.
std::string fill_template(std::string_view text, const Value& fields, const std::string& resource);

class LlmClient {
public:
    LlmClient(std::shared_ptr<HttpClient> http, LlmConfig config);

    /// `messages`: an array of { role, content } objects. The system prompt (the
    /// resource's, or options.system) goes first unless the messages have one.
    ChatReply chat(Value messages, const ChatOptions& options);
    /// A user prompt: the text, or the resource's `prompt` template filled from `fields`.
    ChatReply chat_prompt(const std::string& prompt, const ChatOptions& options);
    /// One vector per text, in order; `usage` receives the prompt tokens.
    std::vector<std::vector<double>> embed(const std::vector<std::string>& texts, TokenUsage& usage,
                                           double timeout_ms = 0);

    const LlmConfig& config() const noexcept { return config_; }
    const std::string& name() const noexcept { return http_->name(); }
    ResourceMeter& meter() noexcept { return http_->meter(); }

private:
    std::shared_ptr<HttpClient> http_;
    LlmConfig config_;

    Value post(const std::string& endpoint, const Value& body, double timeout_ms);
    std::string endpoint(std::string_view path) const;
};

}  // namespace statenet::detail
