// SharedStrategies: breakers, bulkheads, the SQLite result cache and the strategy counters.
#include "exec/shared_strategies.hpp"

#include "io/sqlite_open.hpp"

#include <SQLiteCpp/SQLiteCpp.h>
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <stdexcept>

namespace statenet::detail {

namespace {

// The cache outlives processes, so its clock is the wall clock, not the engine's.
double wall_ms() {
    using namespace std::chrono;
    return static_cast<double>(duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count());
}

}  // namespace

struct SharedStrategies::CacheDb {
    std::mutex mutex;  // one statement at a time: the connection is opened without SQLite's own
    std::unique_ptr<SQLite::Database> db;

    explicit CacheDb(const std::string& file)
        : db(open_retrying_busy([&] {
              auto d = std::make_unique<SQLite::Database>(
                  file, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE | SQLite::OPEN_NOMUTEX, 5000);
              d->exec("PRAGMA journal_mode=WAL");
              d->exec("PRAGMA synchronous=NORMAL");
              d->exec(
                  "CREATE TABLE IF NOT EXISTS state_cache (state TEXT NOT NULL, key TEXT NOT NULL, "
                  "value TEXT NOT NULL, expires_ms REAL NOT NULL, PRIMARY KEY (state, key))");
              return d;
          })) {}
};

SharedStrategies::SharedStrategies(std::shared_ptr<const Model> model)
    : model_(std::move(model)),
      by_id_(static_cast<std::size_t>(model_->state_count)),
      counters_(static_cast<std::size_t>(model_->state_count)),
      breakers_(static_cast<std::size_t>(model_->state_count)),
      inside_(static_cast<std::size_t>(model_->state_count)) {
    for (const auto& net : model_->networks)
        for (const auto& s : net.states) {
            by_id_[static_cast<std::size_t>(s.id)] = &s;
            if (s.strategies.breaker) breakers_[static_cast<std::size_t>(s.id)] = std::make_unique<BreakerState>();
            const auto& cache = s.strategies.cache;
            if (!cache || caches_.count(cache->db)) continue;
            try {
                caches_.emplace(cache->db, std::make_unique<CacheDb>(cache->db));
            } catch (const std::exception& e) {
                throw std::runtime_error(fmt::format("cache database '{}': {}", cache->db, e.what()));
            }
        }
}

SharedStrategies::~SharedStrategies() = default;

bool SharedStrategies::breaker_admits(const State& s, double now_ms) {
    BreakerState& b = *breakers_[static_cast<std::size_t>(s.id)];
    std::lock_guard lock(b.mutex);
    if (b.opened_at < 0) return true;
    if (now_ms - b.opened_at >= s.strategies.breaker->reset_ms && !b.trial_out) {
        b.trial_out = true;  // half open: this record tries the state for everyone
        return true;
    }
    count(s, StrategyCount::breaker_refused);
    return false;
}

void SharedStrategies::breaker_outcome(const State& s, const ErrorInfo* error, double now_ms) {
    BreakerState& b = *breakers_[static_cast<std::size_t>(s.id)];
    const Breaker& config = *s.strategies.breaker;
    std::lock_guard lock(b.mutex);
    const bool trial = b.trial_out;
    b.trial_out = false;
    if (!error) {
        b.failures = 0;
        b.opened_at = -1;
        return;
    }
    // An error the breaker does not watch leaves it as it was (a half-open trial is
    // over, the next record tries again).
    if (!std::any_of(config.errors.begin(), config.errors.end(),
                     [&](const std::string& e) { return e == "*" || e == error->name; }))
        return;
    ++b.failures;
    if (trial || (b.opened_at < 0 && b.failures >= config.failures)) {
        b.opened_at = now_ms;
        count(s, StrategyCount::breaker_opened);
    }
}

void SharedStrategies::breaker_cancel(const State& s) noexcept {
    BreakerState& b = *breakers_[static_cast<std::size_t>(s.id)];
    std::lock_guard lock(b.mutex);
    b.trial_out = false;
}

std::string SharedStrategies::breaker_status(const State& s) const {
    BreakerState& b = *breakers_[static_cast<std::size_t>(s.id)];
    std::lock_guard lock(b.mutex);
    if (b.opened_at < 0) return "closed";
    return b.trial_out ? "half-open" : "open";
}

bool SharedStrategies::bulkhead_enter(const State& s) {
    auto& inside = inside_[static_cast<std::size_t>(s.id)];
    int now = inside.load(std::memory_order_relaxed);
    do {
        if (now >= s.strategies.bulkhead) {
            count(s, StrategyCount::bulkhead_refused);
            return false;
        }
    } while (!inside.compare_exchange_weak(now, now + 1, std::memory_order_acq_rel));
    return true;
}

void SharedStrategies::bulkhead_leave(const State& s) noexcept {
    inside_[static_cast<std::size_t>(s.id)].fetch_sub(1, std::memory_order_acq_rel);
}

std::optional<std::string> SharedStrategies::cache_get(const State& s, std::string_view key) {
    CacheDb& c = *caches_.at(s.strategies.cache->db);
    std::optional<std::string> value;
    {
        std::lock_guard lock(c.mutex);
        SQLite::Statement q(*c.db, "SELECT value FROM state_cache WHERE state = ? AND key = ? AND expires_ms > ?");
        q.bind(1, s.qualified);
        q.bind(2, std::string(key));
        q.bind(3, wall_ms());
        if (q.executeStep()) value = q.getColumn(0).getString();
    }
    count(s, value ? StrategyCount::cache_hits : StrategyCount::cache_misses);
    return value;
}

void SharedStrategies::cache_put(const State& s, std::string_view key, std::string_view value) {
    CacheDb& c = *caches_.at(s.strategies.cache->db);
    std::lock_guard lock(c.mutex);
    SQLite::Statement q(*c.db,
                        "INSERT OR REPLACE INTO state_cache (state, key, value, expires_ms) VALUES (?, ?, ?, ?)");
    q.bind(1, s.qualified);
    q.bind(2, std::string(key));
    q.bind(3, std::string(value));
    q.bind(4, wall_ms() + s.strategies.cache->ttl_ms);
    q.exec();
}

std::vector<StrategyStats> SharedStrategies::stats() const {
    std::vector<StrategyStats> out;
    for (const auto& net : model_->networks)
        for (const auto& s : net.states) {
            const auto& c = counters_[static_cast<std::size_t>(s.id)];
            auto n = [&](StrategyCount what) { return c[static_cast<std::size_t>(what)].load(); };
            auto add = [&](const char* strategy, std::vector<std::pair<std::string, std::uint64_t>> counts,
                           std::string status = {}) {
                out.push_back(StrategyStats{s.qualified, strategy, std::move(counts), std::move(status)});
            };
            const Strategies& st = s.strategies;
            if (!s.retry.empty()) add("retry", {{"retries", n(StrategyCount::retries)}});
            if (st.breaker)
                add("circuit_breaker",
                    {{"opened", n(StrategyCount::breaker_opened)}, {"refused", n(StrategyCount::breaker_refused)}},
                    breaker_status(s));
            if (st.bulkhead > 0) add("bulkhead", {{"refused", n(StrategyCount::bulkhead_refused)}});
            if (st.deadline_ms > 0) add("deadline", {{"exceeded", n(StrategyCount::deadline_exceeded)}});
            if (!st.fallback.empty()) add("fallback", {{"used", n(StrategyCount::fallbacks)}});
            if (!st.compensate.empty())
                add("compensate",
                    {{"ran", n(StrategyCount::compensations)}, {"failed", n(StrategyCount::compensation_failures)}});
            if (st.cache)
                add("cache", {{"hits", n(StrategyCount::cache_hits)}, {"misses", n(StrategyCount::cache_misses)}});
        }
    return out;
}

}  // namespace statenet::detail
