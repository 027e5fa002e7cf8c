// History rows as JSON, level names, and the time and age texts the history API and CLI accept.
#include <statenet/history.hpp>

#include "exec/run_observer.hpp"

#include <fmt/format.h>

#include <charconv>
#include <chrono>
#include <ctime>
#include <limits>

namespace statenet {

std::optional<HistoryLevel> parse_history_level(std::string_view text) noexcept {
    if (text == "off") return HistoryLevel::off;
    if (text == "runs") return HistoryLevel::runs;
    if (text == "steps") return HistoryLevel::steps;
    if (text == "full") return HistoryLevel::full;
    return std::nullopt;
}

std::string_view history_level_name(HistoryLevel level) noexcept {
    switch (level) {
    case HistoryLevel::off: return "off";
    case HistoryLevel::runs: return "runs";
    case HistoryLevel::steps: return "steps";
    case HistoryLevel::full: return "full";
    }
    return "off";
}

namespace {

Value error_value(const ErrorInfo& e) {
    return Value::object({{"name", e.name}, {"message", e.message}, {"state", e.state}});
}

}  // namespace

Value resource_uses_value(const std::vector<ResourceUse>& uses) {
    Value all = Value::object();
    for (const ResourceUse& use : uses) {
        Value one = Value::object({{"type", use.type},
                                   {"calls", static_cast<long long>(use.calls)},
                                   {"errors", static_cast<long long>(use.errors)},
                                   {"latency_ms", use.latency_ms}});
        if (!use.health.empty()) one.set("health", use.health);
        all.set(use.name, std::move(one));
    }
    return all;
}

Value HistoryRun::to_value() const {
    Value v = Value::object();
    v.set("id", id);
    v.set("run_id", run_id);
    v.set("workflow", workflow);
    v.set("version", version);
    v.set("file", file);
    v.set("scripts_hash", scripts_hash);
    v.set("position", position ? Value(*position) : Value());
    v.set("status", ok ? "ok" : "failed");
    v.set("final_state", final_state);
    if (error) v.set("error", error_value(*error));
    v.set("started", format_history_time(started_us));
    v.set("duration_us", static_cast<double>(duration_ns) / 1000.0);
    v.set("transitions", transitions);
    v.set("level", history_level_name(level));
    if (input) v.set("input", *input);
    if (output) v.set("output", *output);
    if (!usage.empty())
        v.set("usage", Value::object({{"prompt_tokens", static_cast<long long>(usage.prompt_tokens)},
                                      {"completion_tokens", static_cast<long long>(usage.completion_tokens)}}));
    if (!resources.empty()) v.set("resources", resource_uses_value(resources));
    return v;
}

Value HistoryStep::to_value() const {
    Value v = Value::object();
    v.set("seq", seq);
    v.set("parent", parent ? Value(*parent) : Value());
    v.set("via", via);
    v.set("network", network);
    v.set("state", state);
    if (!arc.empty()) v.set("arc", arc);
    if (!reason.empty()) v.set("reason", reason);
    if (!event.empty()) v.set("event", event);
    v.set("attempt", attempt);
    v.set("depth", depth);
    v.set("status", status);
    v.set("duration_us", static_cast<double>(duration_ns) / 1000.0);
    if (error) v.set("error", error_value(*error));
    if (changes) v.set("changes", *changes);
    return v;
}

std::int64_t history_now_us() noexcept {
    using namespace std::chrono;
    return duration_cast<microseconds>(system_clock::now().time_since_epoch()).count();
}

std::string format_history_time(std::int64_t unix_us) {
    std::time_t seconds = static_cast<std::time_t>(unix_us / 1000000);
    std::int64_t micros = unix_us % 1000000;
    if (micros < 0) {
        micros += 1000000;
        --seconds;
    }
    std::tm tm{};
    gmtime_r(&seconds, &tm);
    return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                       tm.tm_hour, tm.tm_min, tm.tm_sec, micros / 1000);
}

std::optional<std::int64_t> parse_history_age(std::string_view text) noexcept {
    if (text.empty()) return std::nullopt;
    std::int64_t unit = 1;
    switch (text.back()) {
    case 's': unit = 1; break;
    case 'm': unit = 60; break;
    case 'h': unit = 3600; break;
    case 'd': unit = 86400; break;
    case 'w': unit = 7 * 86400; break;
    default: unit = 0;
    }
    std::string_view digits = unit ? text.substr(0, text.size() - 1) : text;
    if (!unit) unit = 1;
    std::int64_t n = 0;
    auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), n);
    if (ec != std::errc() || end != digits.data() + digits.size() || n < 0) return std::nullopt;
    // Callers take the age in microseconds: it must stay within int64 there.
    if (n > std::numeric_limits<std::int64_t>::max() / 1000000 / unit) return std::nullopt;
    return n * unit;
}

namespace {

/// Reads exactly `width` digits at `at`.
bool read_digits(std::string_view text, std::size_t at, std::size_t width, int& out) {
    if (at + width > text.size()) return false;
    out = 0;
    for (std::size_t i = at; i < at + width; ++i) {
        if (text[i] < '0' || text[i] > '9') return false;
        out = out * 10 + (text[i] - '0');
    }
    return true;
}

std::optional<std::int64_t> parse_iso_time(std::string_view text) {
    int year, month, day, hour = 0, minute = 0, second = 0, millis = 0;
    if (!read_digits(text, 0, 4, year) || text.size() < 10 || text[4] != '-' || !read_digits(text, 5, 2, month) ||
        text[7] != '-' || !read_digits(text, 8, 2, day))
        return std::nullopt;
    std::size_t at = 10;
    if (at < text.size()) {
        if (text[at] != 'T' && text[at] != ' ') return std::nullopt;
        if (!read_digits(text, at + 1, 2, hour) || text.size() < at + 9 || text[at + 3] != ':' ||
            !read_digits(text, at + 4, 2, minute) || text[at + 6] != ':' || !read_digits(text, at + 7, 2, second))
            return std::nullopt;
        at += 9;
        if (at < text.size() && text[at] == '.') {
            std::size_t digits = 0;
            for (++at; at < text.size() && text[at] >= '0' && text[at] <= '9'; ++at, ++digits)
                if (digits < 3) millis = millis * 10 + (text[at] - '0');
            if (digits == 0) return std::nullopt;
            for (; digits < 3; ++digits) millis *= 10;
        }
        if (at < text.size() && text[at] == 'Z') ++at;
        if (at != text.size()) return std::nullopt;
    }
    if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60) return std::nullopt;
    std::tm tm{};
    tm.tm_year = year - 1900;
    tm.tm_mon = month - 1;
    tm.tm_mday = day;
    tm.tm_hour = hour;
    tm.tm_min = minute;
    tm.tm_sec = second;
    const std::time_t seconds = timegm(&tm);
    return static_cast<std::int64_t>(seconds) * 1000000 + millis * 1000;
}

}  // namespace

std::optional<std::int64_t> parse_history_time(std::string_view text, std::int64_t now_us) {
    if (auto iso = parse_iso_time(text)) return iso;
    if (auto age = parse_history_age(text); age && !text.empty() && (text.back() < '0' || text.back() > '9'))
        return now_us - *age * 1000000;
    return std::nullopt;
}

}  // namespace statenet

namespace statenet::detail {

std::string_view via_name(StepVia via) noexcept {
    switch (via) {
    case StepVia::start: return "start";
    case StepVia::arc: return "arc";
    case StepVia::push: return "push";
    case StepVia::ret: return "return";
    case StepVia::retry: return "retry";
    case StepVia::on_error: return "on_error";
    }
    return "arc";
}

}  // namespace statenet::detail
