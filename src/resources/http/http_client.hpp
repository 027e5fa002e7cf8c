// HttpClient: one `http` resource's client, shared by every worker of a workflow
// version: its rate limiter, circuit breaker, concurrency limit and counters are the
// workflow's, its connections are each thread's (CurlMulti keeps them alive).
//
// request() looks synchronous but waits only through wait_for(): with an in-flight
// scheduler the record yields while its request, its backoff or its rate-limit wait
// runs. It is thread-safe. Errors are ResourceFailure: HttpError (status >= 400 after the
// retries, connection failures), Timeout, CircuitOpen, RateLimited.
#pragma once

#include "model/http_config.hpp"
#include "resources/binding.hpp"
#include "resources/http/curl_multi.hpp"
#include "resources/meter.hpp"

#include <statenet/result.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace statenet::detail {

using Headers = std::vector<std::pair<std::string, std::string>>;

struct HttpRequest {
    std::string method = "GET";
    std::string path;  // appended to base_url; a full http(s):// URL is taken as is
    Headers query;     // appended as ?k=v&..., escaped
    Headers headers;   // added to (and overriding) the resource's default headers
    std::string body;
    bool has_body = false;
    double timeout_ms = 0;         // 0 = the resource's
    bool raise_for_status = true;  // false: a status >= 400 is returned, not raised
};

struct HttpResponse {
    long status = 0;
    Headers headers;  // names in lower case, in arrival order
    std::string body;

    /// The first header of that (lower-case) name, or null.
    const std::string* header(std::string_view name) const;
    /// Whether the Content-Type says JSON (application/json, application/*+json).
    bool is_json() const;
};

/// The token bucket: `rate_per_s` tokens a second, at most `burst` saved up. Callers
/// reserve a token and wait until it is theirs, so waiting callers are served in order.
class RateLimiter {
public:
    RateLimiter(double rate_per_s, double burst);
    /// When the caller's token is available; reserves it unless that is later than
    /// `limit` (then returns nullopt and reserves nothing).
    std::optional<SteadyClock::time_point> reserve(SteadyClock::time_point limit);

private:
    std::mutex mutex_;
    double rate_;
    double burst_;
    double tokens_;
    SteadyClock::time_point at_;
};

/// closed -> open after `failures` consecutive failures -> half-open after `cooldown`:
/// one trial call goes through; its success closes the breaker, its failure opens it.
class CircuitBreaker {
public:
    enum class State { closed, open, half_open };
    CircuitBreaker(int failures, double cooldown_ms) : threshold_(failures), cooldown_ms_(cooldown_ms) {}

    enum class Admission { go, trial, refused };
    /// Whether a call may go now; `trial` when it is the half-open breaker's one trial.
    Admission admit();
    void record(bool success, bool was_trial);
    State state();

private:
    std::mutex mutex_;
    int threshold_;
    double cooldown_ms_;
    int failures_ = 0;
    State state_ = State::closed;
    bool trial_out_ = false;
    SteadyClock::time_point opened_at_;
};

class HttpClient {
public:
    /// Reads the auth secrets from the environment. Never throws: a variable that is
    /// not set (the loader reports it) makes every call fail with ResourceError.
    HttpClient(std::string name, std::string type, const HttpConfig& config);

    /// Runs the request with retries, breaker, rate limit and concurrency limit.
    HttpResponse request(const HttpRequest& request);

    /// The counters (calls are counted by the Lua binding, through metered()), with the
    /// breaker's state as the health.
    ResourceStats stats() const;
    ResourceMeter& meter() noexcept { return meter_; }
    const std::string& name() const noexcept { return name_; }
    const HttpConfig& config() const noexcept { return config_; }

private:
    struct Attempt;
    std::string name_;
    std::string type_;
    HttpConfig config_;
    Headers auth_headers_;              // secrets: sent, never shown
    std::vector<std::string> secrets_;  // what redact() hides in messages
    std::string unusable_;              // why every call fails (a secret is missing)
    RateLimiter limiter_;
    mutable CircuitBreaker breaker_;
    std::atomic<int> in_flight_{0};
    ResourceMeter meter_;

    HttpResponse attempt(const HttpRequest& request, const std::string& url, double timeout_ms, Attempt& outcome);
    HttpResponse run_with_retries(const HttpRequest& request);
    void admit(const std::string& what, bool& trial);
    void take_slot(const std::string& what, SteadyClock::time_point limit);
    void wait_for_rate(const std::string& what, SteadyClock::time_point limit);
    bool healthy();
    std::string url_of(const HttpRequest& request) const;
    std::string redact(std::string text) const;
    ResourceFailure failure(const char* name, const std::string& message) const;
    /// Shows the breaker's state as the meter's health (what a record's history keeps).
    void note_health() noexcept;
};

}  // namespace statenet::detail
