// HttpClient: a call's journey — rate limit, concurrency slot, breaker, the attempt on
// the thread's multi handle, and the retries with backoff and Retry-After.
#include "resources/http/http_client.hpp"

#include "resources/http/curl_multi.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <ctime>

namespace statenet::detail {

namespace {

std::string lower(std::string_view text) {
    std::string out(text);
    for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

std::string_view trim(std::string_view text) {
    while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front()))) text.remove_prefix(1);
    while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) text.remove_suffix(1);
    return text;
}

std::size_t on_body(char* data, std::size_t size, std::size_t count, void* user) {
    static_cast<std::string*>(user)->append(data, size * count);
    return size * count;
}

std::size_t on_header(char* data, std::size_t size, std::size_t count, void* user) {
    auto* headers = static_cast<Headers*>(user);
    const std::string_view line(data, size * count);
    // A status line starts a new response (after 100 Continue): only the last one counts.
    if (line.starts_with("HTTP/")) headers->clear();
    else if (auto colon = line.find(':'); colon != std::string_view::npos)
        headers->emplace_back(lower(trim(line.substr(0, colon))), std::string(trim(line.substr(colon + 1))));
    return size * count;
}

std::string percent_encode(std::string_view text) {
    std::string out;
    for (unsigned char c : text) {
        if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') out += static_cast<char>(c);
        else out += fmt::format("%{:02X}", c);
    }
    return out;
}

std::string base64(std::string_view text) {
    static constexpr char digits[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string out;
    std::size_t i = 0;
    for (; i + 2 < text.size(); i += 3) {
        const unsigned v = (static_cast<unsigned char>(text[i]) << 16) |
                           (static_cast<unsigned char>(text[i + 1]) << 8) | static_cast<unsigned char>(text[i + 2]);
        for (int shift : {18, 12, 6, 0}) out += digits[(v >> shift) & 63];
    }
    if (i < text.size()) {
        unsigned v = static_cast<unsigned char>(text[i]) << 16;
        if (i + 1 < text.size()) v |= static_cast<unsigned char>(text[i + 1]) << 8;
        out += digits[(v >> 18) & 63];
        out += digits[(v >> 12) & 63];
        out += i + 1 < text.size() ? digits[(v >> 6) & 63] : '=';
        out += '=';
    }
    return out;
}

// A secret's value; a variable unset since the load (the loader reports it) is kept in
// `missing`, and every call then fails saying so.
std::string secret_from(const std::string& resource, const std::string& variable, std::string& missing) {
    const char* value = std::getenv(variable.c_str());
    if (!value && missing.empty())
        missing = fmt::format("resource '{}': environment variable '{}' is not set", resource, variable);
    return value ? value : "";
}

// What an error message may show of a response body: its start, on one line.
std::string excerpt(std::string_view body) {
    constexpr std::size_t max = 200;
    std::string out;
    for (char c : body.substr(0, max)) out += std::iscntrl(static_cast<unsigned char>(c)) ? ' ' : c;
    if (body.size() > max) out += "...";
    return out;
}

// Seconds to wait from a Retry-After value (delta-seconds or an HTTP date), or -1.
double retry_after_ms(const std::string& value) {
    if (!value.empty() && std::all_of(value.begin(), value.end(), [](char c) { return std::isdigit(c); }))
        return std::stod(value) * 1000;
    const time_t at = curl_getdate(value.c_str(), nullptr);
    if (at < 0) return -1;
    return std::max(0.0, std::difftime(at, std::time(nullptr)) * 1000);
}

SteadyClock::time_point after_ms(double ms) {
    return SteadyClock::now() + std::chrono::microseconds(static_cast<std::int64_t>(ms * 1000));
}

}  // namespace

// ---- responses -----------------------------------------------------------------

const std::string* HttpResponse::header(std::string_view name) const {
    for (const auto& [key, value] : headers)
        if (key == name) return &value;
    return nullptr;
}

bool HttpResponse::is_json() const {
    const std::string* type = header("content-type");
    if (!type) return false;
    const std::string media = lower(trim(std::string_view(*type).substr(0, type->find(';'))));
    return media == "application/json" || (media.starts_with("application/") && media.ends_with("+json"));
}

// ---- rate limiter ----------------------------------------------------------------

RateLimiter::RateLimiter(double rate_per_s, double burst)
    : rate_(rate_per_s),
      burst_(burst > 0 ? burst : std::max(1.0, rate_per_s)),
      tokens_(burst_),
      at_(SteadyClock::now()) {}

std::optional<SteadyClock::time_point> RateLimiter::reserve(SteadyClock::time_point limit) {
    const auto now = SteadyClock::now();
    if (rate_ <= 0) return now;
    std::lock_guard lock(mutex_);
    tokens_ = std::min(burst_, tokens_ + std::chrono::duration<double>(now - at_).count() * rate_);
    at_ = now;
    // Tokens below zero are reserved by callers still waiting: this caller queues after them.
    const double missing = 1 - tokens_;
    const auto when =
        missing <= 0 ? now : now + std::chrono::microseconds(static_cast<std::int64_t>(missing / rate_ * 1e6));
    if (when > limit) return std::nullopt;
    tokens_ -= 1;
    return when;
}

// ---- circuit breaker --------------------------------------------------------------

CircuitBreaker::Admission CircuitBreaker::admit() {
    if (threshold_ <= 0) return Admission::go;
    std::lock_guard lock(mutex_);
    if (state_ == State::closed) return Admission::go;
    if (state_ == State::open &&
        SteadyClock::now() - opened_at_ >= std::chrono::duration<double, std::milli>(cooldown_ms_))
        state_ = State::half_open;
    if (state_ == State::half_open && !trial_out_) {
        trial_out_ = true;
        return Admission::trial;
    }
    return Admission::refused;
}

void CircuitBreaker::record(bool success, bool was_trial) {
    if (threshold_ <= 0) return;
    std::lock_guard lock(mutex_);
    if (was_trial) trial_out_ = false;
    if (success) {
        failures_ = 0;
        if (was_trial || state_ == State::half_open) state_ = State::closed;
        return;
    }
    ++failures_;
    if (was_trial || (state_ == State::closed && failures_ >= threshold_)) {
        state_ = State::open;
        opened_at_ = SteadyClock::now();
    }
}

CircuitBreaker::State CircuitBreaker::state() {
    std::lock_guard lock(mutex_);
    if (state_ == State::open &&
        SteadyClock::now() - opened_at_ >= std::chrono::duration<double, std::milli>(cooldown_ms_))
        return State::half_open;
    return state_;
}

// ---- the client ---------------------------------------------------------------------

struct HttpClient::Attempt {
    enum class Kind { answered, connect_failed, timed_out, failed };
    Kind kind = Kind::answered;
    std::string detail;  // libcurl's message
};

HttpClient::HttpClient(std::string name, std::string type, const HttpConfig& config)
    : name_(std::move(name)),
      type_(std::move(type)),
      config_(config),
      limiter_(config.rate_per_s, config.burst),
      breaker_(config.breaker_failures, config.breaker_cooldown_ms),
      meter_(name_, type_, true) {
    const HttpAuth& auth = config_.auth;
    switch (auth.kind) {
    case HttpAuth::Kind::none: break;
    case HttpAuth::Kind::bearer:
        auth_headers_.emplace_back("Authorization", "Bearer " + secret_from(name_, auth.token_env, unusable_));
        secrets_.push_back(auth_headers_.back().second.substr(7));
        break;
    case HttpAuth::Kind::api_key:
        auth_headers_.emplace_back(auth.header, secret_from(name_, auth.token_env, unusable_));
        secrets_.push_back(auth_headers_.back().second);
        break;
    case HttpAuth::Kind::basic: {
        const std::string password = secret_from(name_, auth.password_env, unusable_);
        const std::string encoded = base64(auth.username + ":" + password);
        auth_headers_.emplace_back("Authorization", "Basic " + encoded);
        secrets_.push_back(password);
        secrets_.push_back(encoded);
        break;
    }
    }
    std::erase_if(secrets_, [](const std::string& s) { return s.empty(); });
}

std::string HttpClient::redact(std::string text) const {
    for (const auto& secret : secrets_)
        for (auto at = text.find(secret); at != std::string::npos; at = text.find(secret, at + 3))
            text.replace(at, secret.size(), "***");
    return text;
}

ResourceFailure HttpClient::failure(const char* name, const std::string& message) const {
    return ResourceFailure(name, redact(message));
}

std::string HttpClient::url_of(const HttpRequest& request) const {
    std::string url =
        request.path.starts_with("http://") || request.path.starts_with("https://")
            ? request.path
            : config_.base_url + (request.path.starts_with('/') || request.path.empty() ? "" : "/") + request.path;
    char separator = url.find('?') == std::string::npos ? '?' : '&';
    for (const auto& [key, value] : request.query) {
        url += separator;
        url += percent_encode(key) + "=" + percent_encode(value);
        separator = '&';
    }
    return url;
}

HttpResponse HttpClient::request(const HttpRequest& request) {
    try {
        if (!unusable_.empty()) throw ResourceFailure("ResourceError", unusable_);
        HttpResponse response = run_with_retries(request);
        note_health();
        return response;
    } catch (...) {
        note_health();
        throw;
    }
}

HttpResponse HttpClient::run_with_retries(const HttpRequest& request) {
    // Messages name the path without its query, whose values may be anyone's.
    const std::string what =
        fmt::format("{}: {} {}", name_, request.method, request.path.substr(0, request.path.find('?')));
    const double timeout_ms = request.timeout_ms > 0 ? request.timeout_ms : config_.timeout_ms;
    const std::string url = url_of(request);
    for (int attempt_no = 0;; ++attempt_no) {
        const auto limit = after_ms(timeout_ms);
        wait_for_rate(what, limit);
        take_slot(what, limit);
        Attempt outcome;
        HttpResponse response;
        bool trial = false;
        try {
            admit(what, trial);
            response = attempt(request, url, timeout_ms, outcome);
        } catch (...) {
            in_flight_.fetch_sub(1);
            throw;
        }
        in_flight_.fetch_sub(1);
        const bool answered = outcome.kind == Attempt::Kind::answered;
        breaker_.record(answered && response.status < 500, trial);
        if (answered &&
            (response.status < 400 || (!request.raise_for_status && response.status != 429 && response.status < 500)))
            return response;
        const bool retryable = outcome.kind == Attempt::Kind::connect_failed ||
                               (answered && (response.status >= 500 || response.status == 429));
        std::string note;
        if (retryable && attempt_no < config_.retries) {
            double delay = std::min(config_.max_backoff_ms, config_.backoff_ms * std::pow(2.0, attempt_no));
            const std::string* after = answered ? response.header("retry-after") : nullptr;
            const double asked = after ? retry_after_ms(*after) : -1;
            if (asked > config_.max_backoff_ms) {
                note = fmt::format(" (Retry-After {} s exceeds max_backoff_ms = {})", *after, config_.max_backoff_ms);
            } else {
                if (asked >= 0) delay = asked;
                meter_.add_retries(1);
                CurlMulti::for_thread().sleep_until(after_ms(delay));
                continue;
            }
        }
        if (answered && !request.raise_for_status) return response;
        switch (outcome.kind) {
        case Attempt::Kind::timed_out:
            throw failure("Timeout", fmt::format("{}: timed out after {} ms ({})", what, timeout_ms, outcome.detail));
        case Attempt::Kind::connect_failed:
            throw failure("HttpError", fmt::format("{}: connection failed after {} attempt(s): {}", what,
                                                   attempt_no + 1, outcome.detail));
        case Attempt::Kind::failed: throw failure("HttpError", fmt::format("{}: {}", what, outcome.detail));
        case Attempt::Kind::answered: break;
        }
        throw failure("HttpError",
                      fmt::format("{}: HTTP {}{}: {}", what, response.status, note, excerpt(response.body)));
    }
}

void HttpClient::wait_for_rate(const std::string& what, SteadyClock::time_point limit) {
    if (config_.rate_per_s <= 0) return;
    auto when = limiter_.reserve(limit);
    if (!when)
        throw failure("RateLimited", fmt::format("{}: the rate limit (rate_per_s = {}) would hold the call past its "
                                                 "timeout",
                                                 what, config_.rate_per_s));
    CurlMulti::for_thread().sleep_until(*when);
}

// Takes one of the max_concurrent slots (counted in in_flight_ either way). Slots are
// freed by other threads too, so a waiting caller looks again every millisecond.
void HttpClient::take_slot(const std::string& what, SteadyClock::time_point limit) {
    const int max = config_.max_concurrent;
    for (;;) {
        int current = in_flight_.load();
        if ((max <= 0 || current < max) && in_flight_.compare_exchange_weak(current, current + 1)) return;
        if (max > 0 && current >= max) {
            if (SteadyClock::now() >= limit)
                throw failure("Timeout",
                              fmt::format("{}: no free slot (max_concurrent = {}) before the timeout", what, max));
            CurlMulti::for_thread().sleep_until(after_ms(1));
        }
    }
}

void HttpClient::admit(const std::string& what, bool& trial) {
    switch (breaker_.admit()) {
    case CircuitBreaker::Admission::go: return;
    case CircuitBreaker::Admission::trial:
        trial = true;
        if (!config_.health_url.empty() && !healthy()) {
            breaker_.record(false, true);
            trial = false;
            throw failure("CircuitOpen", fmt::format("{}: circuit breaker open (health check failed)", what));
        }
        return;
    case CircuitBreaker::Admission::refused:
        throw failure("CircuitOpen", fmt::format("{}: circuit breaker open after {} consecutive failures", what,
                                                 config_.breaker_failures));
    }
}

bool HttpClient::healthy() {
    HttpRequest probe;
    probe.path = config_.health_url;
    Attempt outcome;
    const HttpResponse response = attempt(probe, config_.health_url, config_.timeout_ms, outcome);
    return outcome.kind == Attempt::Kind::answered && response.status >= 200 && response.status < 300;
}

HttpResponse HttpClient::attempt(const HttpRequest& request, const std::string& url, double timeout_ms,
                                 Attempt& outcome) {
    CurlMulti& multi = CurlMulti::for_thread();
    HttpResponse response;
    Transfer transfer;
    transfer.easy = multi.take_easy();
    curl_slist* headers = nullptr;
    char error[CURL_ERROR_SIZE] = {};
    struct Cleanup {
        CurlMulti& multi;
        Transfer& transfer;
        curl_slist*& headers;
        ~Cleanup() {
            multi.abandon(transfer);
            curl_slist_free_all(headers);
            multi.give_easy(transfer.easy);
        }
    } cleanup{multi, transfer, headers};

    CURL* easy = transfer.easy;
    curl_easy_setopt(easy, CURLOPT_URL, url.c_str());
    curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, error);
    curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, static_cast<long>(std::ceil(timeout_ms)));
    curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(std::ceil(config_.connect_timeout_ms)));
    curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(easy, CURLOPT_WRITEDATA, &response.body);
    curl_easy_setopt(easy, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(easy, CURLOPT_HEADERDATA, &response.headers);
    if (!config_.keep_alive) {
        curl_easy_setopt(easy, CURLOPT_FRESH_CONNECT, 1L);
        curl_easy_setopt(easy, CURLOPT_FORBID_REUSE, 1L);
    }
    if (request.method == "GET") {
        curl_easy_setopt(easy, CURLOPT_HTTPGET, 1L);
    } else if (request.method == "HEAD") {
        curl_easy_setopt(easy, CURLOPT_NOBODY, 1L);
    } else {
        if (request.method != "POST") curl_easy_setopt(easy, CURLOPT_CUSTOMREQUEST, request.method.c_str());
        if (request.has_body || request.method != "DELETE") {
            curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(request.body.size()));
            curl_easy_setopt(easy, CURLOPT_POSTFIELDS, request.body.c_str());
        }
    }
    // The call's headers override the resource's defaults of the same name; auth last
    // unless the call sets it itself.
    auto overridden = [&](const std::string& name) {
        return std::any_of(request.headers.begin(), request.headers.end(),
                           [&](const auto& h) { return lower(h.first) == lower(name); });
    };
    std::vector<std::string> lines;
    for (const auto& [name, value] : config_.headers)
        if (!overridden(name)) lines.push_back(name + ": " + value);
    for (const auto& [name, value] : request.headers) lines.push_back(name + ": " + value);
    for (const auto& [name, value] : auth_headers_)
        if (!overridden(name)) lines.push_back(name + ": " + value);
    lines.emplace_back("Expect:");  // no 100-continue round trip before a body
    for (const auto& line : lines) headers = curl_slist_append(headers, line.c_str());
    curl_easy_setopt(easy, CURLOPT_HTTPHEADER, headers);

    multi.start(transfer);
    wait_for([&transfer] { return transfer.done; }, multi);

    switch (transfer.result) {
    case CURLE_OK:
        curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &response.status);
        outcome.kind = Attempt::Kind::answered;
        return response;
    case CURLE_OPERATION_TIMEDOUT: outcome.kind = Attempt::Kind::timed_out; break;
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_COULDNT_CONNECT:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_SSL_CONNECT_ERROR: outcome.kind = Attempt::Kind::connect_failed; break;
    default: outcome.kind = Attempt::Kind::failed; break;
    }
    outcome.detail = error[0] ? error : curl_easy_strerror(transfer.result);
    return response;
}

void HttpClient::note_health() noexcept {
    switch (breaker_.state()) {
    case CircuitBreaker::State::closed: meter_.set_health(Health::ok); break;
    case CircuitBreaker::State::half_open: meter_.set_health(Health::degraded); break;
    case CircuitBreaker::State::open: meter_.set_health(Health::down); break;
    }
}

ResourceStats HttpClient::stats() const {
    ResourceStats s = meter_.stats();
    switch (breaker_.state()) {  // live: an open breaker turns half-open with time alone
    case CircuitBreaker::State::closed: s.health = "closed"; break;
    case CircuitBreaker::State::open: s.health = "open"; break;
    case CircuitBreaker::State::half_open: s.health = "half-open"; break;
    }
    return s;
}

}  // namespace statenet::detail
