// ResourceMeter and RecordMeter: the counters every resource kind keeps alike.
#include "resources/meter.hpp"

namespace statenet::detail {

namespace {

// The registry key of a VM's RecordMeter: this variable's address.
const char record_meter_key = 0;

void raise_max(std::atomic<std::uint64_t>& max, std::uint64_t value) noexcept {
    std::uint64_t seen = max.load(std::memory_order_relaxed);
    while (value > seen && !max.compare_exchange_weak(seen, value, std::memory_order_relaxed)) {}
}

}  // namespace

ResourceMeter::ResourceMeter(std::string name, std::string type, bool breaker)
    : name_(std::move(name)), type_(std::move(type)), breaker_(breaker) {}

void ResourceMeter::record(std::uint64_t latency_us, bool failed) noexcept {
    calls_.fetch_add(1, std::memory_order_relaxed);
    if (failed) errors_.fetch_add(1, std::memory_order_relaxed);
    latency_us_.fetch_add(latency_us, std::memory_order_relaxed);
    raise_max(latency_max_us_, latency_us);
    if (!breaker_) set_health(failed ? Health::degraded : Health::ok);
}

void ResourceMeter::add_tokens(const TokenUsage& usage) noexcept {
    prompt_tokens_.fetch_add(usage.prompt_tokens, std::memory_order_relaxed);
    completion_tokens_.fetch_add(usage.completion_tokens, std::memory_order_relaxed);
}

const char* ResourceMeter::health_name() const noexcept {
    static constexpr const char* plain[] = {"ok", "degraded", "down"};
    static constexpr const char* breaker[] = {"closed", "half-open", "open"};
    const int h = health_.load(std::memory_order_relaxed);
    return (breaker_ ? breaker : plain)[h];
}

ResourceStats ResourceMeter::stats() const {
    ResourceStats s;
    s.name = name_;
    s.type = type_;
    s.calls = calls_.load(std::memory_order_relaxed);
    s.errors = errors_.load(std::memory_order_relaxed);
    s.retries = retries_.load(std::memory_order_relaxed);
    s.latency_ms_sum = static_cast<double>(latency_us_.load(std::memory_order_relaxed)) / 1000.0;
    s.latency_ms_max = static_cast<double>(latency_max_us_.load(std::memory_order_relaxed)) / 1000.0;
    s.health = health_name();
    s.tokens.prompt_tokens = prompt_tokens_.load(std::memory_order_relaxed);
    s.tokens.completion_tokens = completion_tokens_.load(std::memory_order_relaxed);
    return s;
}

void RecordMeter::add(const ResourceMeter& meter, std::uint64_t latency_us, bool failed) {
    for (Calls& c : calls_)
        if (c.meter == &meter) {
            ++c.calls;
            c.errors += failed ? 1 : 0;
            c.latency_us += latency_us;
            return;
        }
    calls_.push_back(Calls{&meter, 1, failed ? 1u : 0u, latency_us});
}

std::vector<ResourceUse> RecordMeter::take() {
    std::vector<ResourceUse> out;
    if (calls_.empty()) return out;
    out.reserve(calls_.size());
    for (const Calls& c : calls_)
        out.push_back(ResourceUse{c.meter->name(), c.meter->type(), c.calls, c.errors,
                                  static_cast<double>(c.latency_us) / 1000.0, c.meter->health_name()});
    calls_.clear();
    return out;
}

void RecordMeter::install(lua_State* L, RecordMeter* meter) {
    lua_pushlightuserdata(L, const_cast<char*>(&record_meter_key));
    if (meter) lua_pushlightuserdata(L, meter);
    else lua_pushnil(L);
    lua_rawset(L, LUA_REGISTRYINDEX);
}

RecordMeter* RecordMeter::of(lua_State* L) noexcept {
    lua_pushlightuserdata(L, const_cast<char*>(&record_meter_key));
    lua_rawget(L, LUA_REGISTRYINDEX);
    auto* meter = static_cast<RecordMeter*>(lua_touserdata(L, -1));
    lua_pop(L, 1);
    return meter;
}

}  // namespace statenet::detail
