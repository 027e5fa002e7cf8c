// The side of the states' recovery strategies that every runner of a workflow version
// shares: circuit breakers, bulkheads, the result cache (SQLite) and the counters the
// run summary shows (docs/recovery.md). Thread-safe.
#pragma once

#include "model/model.hpp"

#include <statenet/result.hpp>
#include <statenet/strategy_stats.hpp>

#include <array>
#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace SQLite {
class Database;
}

namespace statenet::detail {

/// What the counters count, per state.
enum class StrategyCount {
    retries,
    breaker_opened,
    breaker_refused,
    bulkhead_refused,
    deadline_exceeded,
    fallbacks,
    compensations,
    compensation_failures,
    cache_hits,
    cache_misses,
    count_
};

class SharedStrategies {
public:
    /// Opens the cache databases the model's states name. Throws std::runtime_error (with
    /// the file) when one cannot be opened.
    explicit SharedStrategies(std::shared_ptr<const Model> model);
    ~SharedStrategies();
    SharedStrategies(const SharedStrategies&) = delete;
    SharedStrategies& operator=(const SharedStrategies&) = delete;

    /// Circuit breaker: whether state `s` lets a record in at `now_ms` (open: no; half
    /// open: only one trial at a time). A refusal is counted.
    bool breaker_admits(const State& s, double now_ms);
    /// The outcome of a record's step in state `s`: `error` is null on success.
    void breaker_outcome(const State& s, const ErrorInfo* error, double now_ms);
    /// A record admitted by the breaker did not run after all: a half-open trial it
    /// may have been granted goes to the next record.
    void breaker_cancel(const State& s) noexcept;

    /// Bulkhead: takes one of state `s`'s places, or counts a refusal and returns false.
    bool bulkhead_enter(const State& s);
    void bulkhead_leave(const State& s) noexcept;

    /// The cached result (JSON text) of state `s` for `key`, if it is younger than the
    /// state's ttl_ms; counts a hit or a miss. Throws std::runtime_error on SQL errors.
    std::optional<std::string> cache_get(const State& s, std::string_view key);
    void cache_put(const State& s, std::string_view key, std::string_view value);

    /// The state with global id `sid`.
    const State& state(int sid) const { return *by_id_.at(static_cast<std::size_t>(sid)); }

    void count(const State& s, StrategyCount what) noexcept {
        counters_[static_cast<std::size_t>(s.id)][static_cast<std::size_t>(what)].fetch_add(1,
                                                                                            std::memory_order_relaxed);
    }
    /// Every strategy a state declares (retry included), in state order.
    std::vector<StrategyStats> stats() const;

private:
    struct BreakerState {
        std::mutex mutex;
        int failures = 0;        // in a row
        double opened_at = -1;   // < 0: closed
        bool trial_out = false;  // half open: the one record let through is running
    };
    struct CacheDb;

    std::shared_ptr<const Model> model_;
    std::vector<const State*> by_id_;
    std::vector<std::array<std::atomic<std::uint64_t>, static_cast<std::size_t>(StrategyCount::count_)>> counters_;
    std::vector<std::unique_ptr<BreakerState>> breakers_;     // by state id; null without one
    std::vector<std::atomic<int>> inside_;                    // bulkheads: records in the state
    std::map<std::string, std::unique_ptr<CacheDb>> caches_;  // by file

    std::string breaker_status(const State& s) const;
};

}  // namespace statenet::detail
