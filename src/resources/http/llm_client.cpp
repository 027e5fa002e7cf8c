// LlmClient: chat and embeddings requests in the OpenAI wire format, their answers read
// back, JSON mode checked.
#include "resources/http/llm_client.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>

namespace statenet::detail {

namespace {

std::string_view trim(std::string_view text) {
    while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front()))) text.remove_prefix(1);
    while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) text.remove_suffix(1);
    return text;
}

// Models asked for JSON still wrap it in a ```json fence now and then.
std::string_view unfenced(std::string_view text) {
    text = trim(text);
    if (!text.starts_with("```")) return text;
    const auto first_line = text.find('\n');
    const auto closing = text.rfind("```");
    if (first_line == std::string_view::npos || closing <= first_line) return text;
    return trim(text.substr(first_line + 1, closing - first_line - 1));
}

std::uint64_t count_of(const Value& usage, std::string_view key) {
    const Value* v = usage.is_object() ? usage.find(key) : nullptr;
    return v && v->is_number() && v->as_number() > 0 ? static_cast<std::uint64_t>(v->as_number()) : 0;
}

const Value* lookup(const Value& fields, std::string_view path) {
    const Value* at = &fields;
    while (at) {
        const auto dot = path.find('.');
        if (!at->is_object()) return nullptr;
        at = at->find(path.substr(0, dot));
        if (dot == std::string_view::npos) return at;
        path.remove_prefix(dot + 1);
    }
    return nullptr;
}

std::string text_of(const Value& v) { return v.is_string() ? v.as_string() : v.to_json(); }

}  // namespace

std::string fill_template(std::string_view text, const Value& fields, const std::string& resource) {
    std::string out;
    for (;;) {
        const auto open = text.find("{{");
        const auto close = open == std::string_view::npos ? open : text.find("}}", open + 2);
        if (close == std::string_view::npos) break;
        out += text.substr(0, open);
        const std::string_view name = trim(text.substr(open + 2, close - open - 2));
        const Value* value = lookup(fields, name);
        if (!value || value->is_null())
            throw ResourceFailure(
                "ResourceError",
                fmt::format("{}: the prompt template uses '{{{{{}}}}}', which the record does not have", resource,
                            name));
        out += text_of(*value);
        text.remove_prefix(close + 2);
    }
    out += text;
    return out;
}

LlmClient::LlmClient(std::shared_ptr<HttpClient> http, LlmConfig config)
    : http_(std::move(http)), config_(std::move(config)) {
    if (config_.embedding_model.empty()) config_.embedding_model = config_.model;
}

// OpenAI's base URL ends in /v1 (https://api.openai.com/v1); a server's root does not.
std::string LlmClient::endpoint(std::string_view path) const {
    const std::string& base = http_->config().base_url;
    return (base.ends_with("/v1") ? base : base + "/v1") + std::string(path);
}

Value LlmClient::post(const std::string& endpoint, const Value& body, double timeout_ms) {
    HttpRequest request;
    request.method = "POST";
    request.path = endpoint;
    request.body = body.to_json();
    request.has_body = true;
    request.timeout_ms = timeout_ms;
    request.headers.emplace_back("Content-Type", "application/json");
    const HttpResponse response = http_->request(request);
    try {
        return Value::from_json(response.body);
    } catch (const std::exception&) {
        throw ResourceFailure("ResourceError", fmt::format("{}: the server's answer is not JSON", name()));
    }
}

ChatReply LlmClient::chat_prompt(const std::string& prompt, const ChatOptions& options) {
    Value messages = Value::array();
    messages.push_back(Value::object({{"role", "user"}, {"content", prompt}}));
    return chat(std::move(messages), options);
}

ChatReply LlmClient::chat(Value messages, const ChatOptions& options) {
    if (!messages.is_array() || messages.size() == 0)
        throw ResourceFailure("ResourceError", name() + ": chat needs a prompt or a non-empty list of messages");
    for (const Value& m : messages.as_array())
        if (!m.is_object() || !m.find("role") || !m.find("content"))
            throw ResourceFailure("ResourceError", name() + ": each message needs a role and a content");
    const std::string system = options.system.value_or(config_.system);
    const bool has_system = messages[0]["role"].is_string() && messages[0]["role"].as_string() == "system";
    if (!system.empty() && !has_system) {
        Value::Array with_system{Value::object({{"role", "system"}, {"content", system}})};
        for (auto& m : messages.as_array()) with_system.push_back(std::move(m));
        messages = Value(std::move(with_system));
    }
    const bool json_output = options.json_output.value_or(config_.json_output);
    Value body = Value::object({{"model", options.model.value_or(config_.model)}, {"messages", std::move(messages)}});
    if (auto t = options.temperature ? options.temperature : config_.temperature) body.set("temperature", *t);
    if (auto n = options.max_tokens ? options.max_tokens : config_.max_tokens) body.set("max_tokens", *n);
    if (json_output) body.set("response_format", Value::object({{"type", "json_object"}}));

    const Value answer = post(endpoint("/chat/completions"), body, options.timeout_ms);
    ChatReply reply;
    const Value& usage = answer["usage"];
    reply.usage.prompt_tokens = count_of(usage, "prompt_tokens");
    reply.usage.completion_tokens = count_of(usage, "completion_tokens");
    http_->meter().add_tokens(reply.usage);
    const Value& choices = answer["choices"];
    const Value* content = choices.is_array() && choices.size() > 0 ? lookup(choices[0], "message.content") : nullptr;
    if (!content || !content->is_string())
        throw ResourceFailure("ResourceError", name() + ": the answer has no choices[0].message.content");
    reply.text = content->as_string();
    if (!json_output) return reply;
    try {
        reply.json = Value::from_json(unfenced(reply.text));
    } catch (const std::exception&) {
        throw ResourceFailure("InvalidOutput",
                              fmt::format("{}: the model's answer is not JSON: {}", name(), reply.text.substr(0, 200)));
    }
    for (const auto& key : config_.required_keys)
        if (!reply.json.is_object() || !reply.json.find(key))
            throw ResourceFailure("InvalidOutput",
                                  fmt::format("{}: the model's JSON answer lacks the required key '{}'", name(), key));
    return reply;
}

std::vector<std::vector<double>> LlmClient::embed(const std::vector<std::string>& texts, TokenUsage& usage,
                                                  double timeout_ms) {
    Value::Array input(texts.begin(), texts.end());
    const Value answer =
        post(endpoint("/embeddings"),
             Value::object({{"model", config_.embedding_model}, {"input", Value(std::move(input))}}), timeout_ms);
    usage.prompt_tokens = count_of(answer["usage"], "prompt_tokens");
    http_->meter().add_tokens(TokenUsage{usage.prompt_tokens, 0});
    const Value& data = answer["data"];
    if (!data.is_array() || data.size() != texts.size())
        throw ResourceFailure("ResourceError", fmt::format("{}: the embeddings answer has {} vectors for {} texts",
                                                           name(), data.is_array() ? data.size() : 0, texts.size()));
    std::vector<std::vector<double>> vectors(texts.size());
    for (std::size_t i = 0; i < data.size(); ++i) {
        const Value& item = data[i];
        const Value* index = item.is_object() ? item.find("index") : nullptr;
        const std::size_t at = index && index->is_int() ? static_cast<std::size_t>(index->as_int()) : i;
        const Value* embedding = item.is_object() ? item.find("embedding") : nullptr;
        if (at >= vectors.size() || !embedding || !embedding->is_array())
            throw ResourceFailure("ResourceError", name() + ": an embeddings answer item has no embedding");
        for (const Value& x : embedding->as_array()) vectors[at].push_back(x.is_number() ? x.as_number() : 0.0);
    }
    return vectors;
}

}  // namespace statenet::detail
