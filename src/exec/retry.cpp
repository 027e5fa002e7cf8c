// Retry back-off and error-name matching for retry and on_error.
#include "exec/retry.hpp"

#include <algorithm>
#include <cmath>

namespace statenet::detail {

bool error_matches(const std::vector<std::string>& errors, const std::string& name) {
    return std::any_of(errors.begin(), errors.end(), [&](const std::string& e) { return e == "*" || e == name; });
}

namespace {

// `random`: each delay drawn anew between interval_ms and max_delay_ms (twice the
// interval when there is no cap), whatever the retry's number.
double random_delay_ms(const Retrier& retrier, std::mt19937_64& rng) {
    const double low = retrier.interval_ms;
    const double high = retrier.max_delay_ms > 0 ? std::max(low, retrier.max_delay_ms) : 2 * low;
    return high > low ? std::uniform_real_distribution<double>(low, high)(rng) : low;
}

double grown_delay_ms(const Retrier& retrier, int retry, std::mt19937_64& rng) {
    switch (retrier.growth) {
    case Retrier::Growth::fixed: return retrier.interval_ms;
    case Retrier::Growth::linear: return retrier.interval_ms * (retry + 1);
    case Retrier::Growth::random: return random_delay_ms(retrier, rng);
    case Retrier::Growth::exponential: break;
    }
    return retrier.interval_ms * std::pow(retrier.backoff, retry);
}

}  // namespace

double retry_delay_ms(const Retrier& retrier, int retry, std::mt19937_64& rng) {
    double delay = grown_delay_ms(retrier, retry, rng);
    if (retrier.max_delay_ms > 0) delay = std::min(delay, retrier.max_delay_ms);
    // The load checks the keys, but interval * backoff^n still grows without bound: the
    // wait stays a finite number of ms that any clock can sleep.
    if (!(delay > 0)) return 0;
    delay = std::min(delay, max_duration_ms);
    if (retrier.full_jitter) delay = std::uniform_real_distribution<double>(0.0, delay)(rng);
    return delay;
}

}  // namespace statenet::detail
