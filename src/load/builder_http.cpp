// The network resources' declarations: `type = "http"` and `type = "llm"`, each key
// checked and located like the rest of the workflow.
#include "load/builder.hpp"

#include <fmt/format.h>

#include <cstdlib>

namespace statenet::detail {

namespace {

const Keys http_keys = {"type",           "description",        "base_url",         "headers",
                        "auth",           "connect_timeout_ms", "timeout_ms",       "retries",
                        "backoff_ms",     "max_backoff_ms",     "rate_per_s",       "burst",
                        "max_concurrent", "keep_alive",         "breaker_failures", "breaker_cooldown_ms",
                        "health_url"};
const Keys llm_only_keys = {"model",  "embedding_model", "temperature",   "max_tokens", "system",
                            "prompt", "response_format", "required_keys", "api_key_env"};
const Keys auth_keys = {"type", "token_env", "username", "password_env", "header", "key_env"};

Keys llm_keys() {
    Keys keys = http_keys;
    keys.insert(keys.end(), llm_only_keys.begin(), llm_only_keys.end());
    std::erase(keys, std::string_view("auth"));
    return keys;
}

bool is_http_url(const std::string& url) { return url.starts_with("http://") || url.starts_with("https://"); }

}  // namespace

void Builder::read_http_resource(ResourceDecl& r, const Node& body) {
    check_keys(body, http_keys, fmt::format("resource '{}'", r.name));
    read_http_config(r.http, body, true);
    if (const Node* auth = body.field("auth")) read_http_auth(r.http.auth, *auth);
}

void Builder::read_llm_resource(ResourceDecl& r, const Node& body) {
    check_keys(body, llm_keys(), fmt::format("resource '{}'", r.name));
    read_http_config(r.http, body, true);
    LlmConfig& c = r.llm;
    if (auto model = string_of(body, "model", true)) c.model = *model;
    if (auto model = string_of(body, "embedding_model", false)) c.embedding_model = *model;
    if (auto t = number_of(body, "temperature")) {
        if (*t < 0 || *t > 2) d_.error(body.field("temperature")->loc, "'temperature' must be between 0 and 2");
        else c.temperature = *t;
    }
    if (const Node* n = body.field("max_tokens")) {
        if (n->kind != Kind::integer || n->integer <= 0) d_.error(n->loc, "'max_tokens' must be a positive integer");
        else c.max_tokens = static_cast<int>(n->integer);
    }
    if (auto system = string_of(body, "system", false)) c.system = *system;
    if (auto prompt = string_of(body, "prompt", false)) c.prompt = *prompt;
    if (auto format = string_of(body, "response_format", false)) {
        if (*format == "json") c.json_output = true;
        else if (*format != "text")
            d_.error(body.field("response_format")->loc,
                     fmt::format("unknown response_format '{}' (expected text or json){}", *format,
                                 suggest(*format, {"text", "json"})));
    }
    if (const Node* keys = body.field("required_keys")) {
        if (!is_list(*keys)) wrong_kind(*keys, "required_keys", "list of key names");
        else
            for (const auto& key : keys->items) {
                if (key.kind != Kind::string) wrong_kind(key, "required_keys entry", "string");
                else c.required_keys.push_back(key.str);
            }
        if (!c.json_output && !c.required_keys.empty())
            d_.error(keys->loc, "'required_keys' needs response_format = \"json\"");
    }
    if (auto env = string_of(body, "api_key_env", false)) {
        r.http.auth.kind = HttpAuth::Kind::bearer;
        r.http.auth.token_env = *env;
        require_env(*env, *body.field("api_key_env"));
    }
}

void Builder::read_http_config(HttpConfig& c, const Node& body, bool base_required) {
    if (auto url = string_of(body, "base_url", base_required)) {
        if (!is_http_url(*url))
            d_.error(body.field("base_url")->loc,
                     fmt::format("'base_url' must start with http:// or https:// (got '{}')", *url));
        c.base_url = *url;
        while (c.base_url.ends_with('/')) c.base_url.pop_back();
    }
    if (const Node* headers = body.field("headers")) {
        if (headers->kind != Kind::table) wrong_kind(*headers, "headers", "table of name = value");
        else
            for (const auto& [name, value] : headers->fields) {
                if (value.kind != Kind::string) wrong_kind(value, "headers." + name, "string");
                else c.headers.emplace_back(name, value.str);
            }
    }
    auto milliseconds = [&](const char* key, double& into, bool positive) {
        auto value = number_of(body, key);
        if (!value) return;
        if (*value < 0 || (positive && *value == 0))
            d_.error(body.field(key)->loc, fmt::format("'{}' must be {} number of milliseconds", key,
                                                       positive ? "a positive" : "a non-negative"));
        else into = *value;
    };
    auto count = [&](const char* key, int& into) {
        const Node* n = body.field(key);
        if (!n) return;
        if (n->kind != Kind::integer || n->integer < 0)
            d_.error(n->loc, fmt::format("'{}' must be an integer >= 0", key));
        else into = static_cast<int>(n->integer);
    };
    milliseconds("connect_timeout_ms", c.connect_timeout_ms, true);
    milliseconds("timeout_ms", c.timeout_ms, true);
    milliseconds("backoff_ms", c.backoff_ms, false);
    milliseconds("max_backoff_ms", c.max_backoff_ms, false);
    milliseconds("breaker_cooldown_ms", c.breaker_cooldown_ms, false);
    count("retries", c.retries);
    count("max_concurrent", c.max_concurrent);
    count("breaker_failures", c.breaker_failures);
    if (auto rate = number_of(body, "rate_per_s")) {
        if (*rate < 0) d_.error(body.field("rate_per_s")->loc, "'rate_per_s' must not be negative");
        else c.rate_per_s = *rate;
    }
    if (auto burst = number_of(body, "burst")) {
        if (*burst < 1) d_.error(body.field("burst")->loc, "'burst' must be at least 1");
        else c.burst = *burst;
    }
    if (body.field("burst") && c.rate_per_s == 0) d_.error(body.field("burst")->loc, "'burst' needs 'rate_per_s'");
    if (auto keep = bool_of(body, "keep_alive")) c.keep_alive = *keep;
    if (auto health = string_of(body, "health_url", false)) {
        if (health->starts_with('/')) c.health_url = c.base_url + *health;
        else if (is_http_url(*health)) c.health_url = *health;
        else
            d_.error(body.field("health_url")->loc,
                     "'health_url' must be a path (\"/health\") or an http:// or https:// URL");
    }
}

void Builder::read_http_auth(HttpAuth& auth, const Node& node) {
    if (node.kind != Kind::table) return wrong_kind(node, "auth", "table");
    check_keys(node, auth_keys, "auth");
    auto type = string_of(node, "type", true);
    if (!type) return;
    auto env = [&](const char* key, std::string& into) {
        if (auto name = string_of(node, key, true)) {
            into = *name;
            require_env(*name, *node.field(key));
        }
    };
    if (*type == "bearer") {
        auth.kind = HttpAuth::Kind::bearer;
        env("token_env", auth.token_env);
    } else if (*type == "basic") {
        auth.kind = HttpAuth::Kind::basic;
        if (auto user = string_of(node, "username", true)) auth.username = *user;
        env("password_env", auth.password_env);
    } else if (*type == "api_key") {
        auth.kind = HttpAuth::Kind::api_key;
        env("key_env", auth.token_env);
        if (auto header = string_of(node, "header", false)) auth.header = *header;
    } else {
        d_.error(node.field("type")->loc, fmt::format("unknown auth type '{}' (expected bearer, basic or api_key){}",
                                                      *type, suggest(*type, {"bearer", "basic", "api_key"})));
    }
}

// A secret's variable must be set when the workflow loads: a missing one is a load
// error where it is named, never a request that goes out unauthenticated.
void Builder::require_env(const std::string& name, const Node& at) {
    if (name.empty()) d_.error(at.loc, "the environment variable's name must not be empty");
    else if (!std::getenv(name.c_str())) d_.error(at.loc, fmt::format("environment variable '{}' is not set", name));
}

}  // namespace statenet::detail
