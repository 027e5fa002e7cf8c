// ResourceMeter: one declared resource's counters (calls, errors, latency) and health,
// shared by every runner of a workflow version; RecordMeter: the calls one record made,
// per resource, kept by the runner (or machine VM) whose Lua calls them. Every resource
// kind's Lua binding counts its calls through metered(), so the kinds count alike.
#pragma once

#include <statenet/result.hpp>

#include <lua.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

namespace statenet::detail {

/// ok: the last connection (or open) and call worked; degraded: the last call failed,
/// the last acquire timed out or a connection could not begin; down: the last attempt to connect (or open the store or
/// root) failed. Network resources report their circuit breaker instead (closed,
/// half-open, open).
enum class Health { ok, degraded, down };

/// Thread-safe: updated by every worker with relaxed atomics.
class ResourceMeter {
public:
    /// `breaker`: the health is a circuit breaker's state, set by its owner only.
    ResourceMeter(std::string name, std::string type, bool breaker = false);

    /// One call that took `latency_us`; a failure makes a resource without a breaker
    /// degraded, a success makes it ok.
    void record(std::uint64_t latency_us, bool failed) noexcept;
    void set_health(Health health) noexcept { health_.store(static_cast<int>(health), std::memory_order_relaxed); }
    Health health() const noexcept { return static_cast<Health>(health_.load(std::memory_order_relaxed)); }
    void add_retries(std::uint64_t n) noexcept { retries_.fetch_add(n, std::memory_order_relaxed); }
    void add_tokens(const TokenUsage& usage) noexcept;

    /// "ok", "degraded", "down" — or, with a breaker, "closed", "half-open", "open".
    const char* health_name() const noexcept;
    ResourceStats stats() const;
    const std::string& name() const noexcept { return name_; }
    const std::string& type() const noexcept { return type_; }

private:
    std::string name_, type_;
    bool breaker_;
    std::atomic<int> health_{static_cast<int>(Health::ok)};
    std::atomic<std::uint64_t> calls_{0}, errors_{0}, retries_{0}, latency_us_{0}, latency_max_us_{0};
    std::atomic<std::uint64_t> prompt_tokens_{0}, completion_tokens_{0};
};

/// The calls of the record a Lua VM is running. Not thread-safe: one per VM, installed
/// in its registry, so a binding finds it from the lua_State it was called with.
class RecordMeter {
public:
    void add(const ResourceMeter& meter, std::uint64_t latency_us, bool failed);
    void add_tokens(const TokenUsage& usage) noexcept {
        tokens_.prompt_tokens += usage.prompt_tokens;
        tokens_.completion_tokens += usage.completion_tokens;
    }
    /// The calls since the last take, in first-call order, with each resource's health
    /// now; forgets them. Empty (and allocation-free) when there were none.
    std::vector<ResourceUse> take();
    /// The tokens `llm` calls used since the last take; forgets them.
    TokenUsage take_tokens() noexcept { return std::exchange(tokens_, TokenUsage{}); }
    /// Forgets what an earlier record left untaken.
    void clear() noexcept {
        calls_.clear();
        tokens_ = TokenUsage{};
    }

    /// Installs `meter` as `L`'s (it must outlive the VM's calls); null removes it.
    static void install(lua_State* L, RecordMeter* meter);
    /// `L`'s meter, or null when none is installed.
    static RecordMeter* of(lua_State* L) noexcept;

private:
    struct Calls {
        const ResourceMeter* meter;
        std::uint64_t calls, errors, latency_us;
    };
    std::vector<Calls> calls_;
    TokenUsage tokens_;
};

/// Runs `body` (one Lua call of a resource), counting it in `meter` and in the record
/// meter of `L`: its latency, and a failure when it throws (rethrown).
template <typename Body>
auto metered(lua_State* L, ResourceMeter& meter, Body&& body) -> decltype(body()) {
    const auto started = std::chrono::steady_clock::now();
    auto done = [&](bool failed) {
        const auto us = static_cast<std::uint64_t>(
            std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - started).count());
        meter.record(us, failed);
        if (RecordMeter* record = RecordMeter::of(L)) record->add(meter, us, failed);
    };
    try {
        if constexpr (std::is_void_v<decltype(body())>) {
            body();
            done(false);
        } else {
            auto result = body();
            done(false);
            return result;
        }
    } catch (...) {
        done(true);
        throw;
    }
}

}  // namespace statenet::detail
