// Retry back-off (Step Functions semantics): interval * backoff^n, capped, optional jitter.
#pragma once

#include "model/model.hpp"

#include <random>
#include <string>
#include <vector>

namespace statenet::detail {

/// True when `name` is listed in `errors` or `errors` holds "*".
bool error_matches(const std::vector<std::string>& errors, const std::string& name);

/// Delay before retry number `retry` (0-based) of `retrier`, in milliseconds.
double retry_delay_ms(const Retrier& retrier, int retry, std::mt19937_64& rng);

}  // namespace statenet::detail
