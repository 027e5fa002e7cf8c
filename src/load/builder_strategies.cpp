// A state's recovery strategies besides retry and on_error: circuit_breaker, bulkhead,
// deadline_ms, fallback, compensate and cache (docs/recovery.md); and the retriers'
// `backoff`, which names a growth or gives the exponential factor.
#include "load/builder.hpp"

#include <fmt/format.h>

#include <filesystem>

namespace statenet::detail {

namespace {

const Keys breaker_keys = {"errors", "failures", "reset_ms", "description"};
const Keys cache_keys = {"key", "ttl_ms", "db", "description"};
const Keys growth_names = {"exponential", "fixed", "linear", "random"};

}  // namespace

void Builder::read_backoff(Retrier& r, const Node& item) {
    const Node* b = item.field("backoff");
    if (!b) return;
    if (b->kind != Kind::string) {
        if (auto v = number_in(item, "backoff", 1, max_backoff)) r.backoff = *v;
        return;
    }
    if (b->str == "fixed") r.growth = Retrier::Growth::fixed;
    else if (b->str == "linear") r.growth = Retrier::Growth::linear;
    else if (b->str == "random") r.growth = Retrier::Growth::random;
    else if (b->str != "exponential")
        d_.error(b->loc, fmt::format("unknown backoff '{}' (expected exponential, fixed, linear, random or a "
                                     "number){}",
                                     b->str, suggest(b->str, growth_names)));
}

void Builder::read_strategies(State& state, const Node& body) {
    Strategies& st = state.strategies;
    if (const Node* b = body.field("circuit_breaker")) {
        if (b->kind != Kind::table) {
            wrong_kind(*b, "circuit_breaker", "table");
        } else {
            check_keys(*b, breaker_keys, "circuit_breaker");
            Breaker breaker;
            if (b->field("errors")) breaker.errors = error_names(*b, "circuit_breaker");
            if (auto n = integer_in(*b, "failures", 1, max_attempts)) breaker.failures = static_cast<int>(*n);
            if (auto v = number_in(*b, "reset_ms", 0, max_duration_ms)) breaker.reset_ms = *v;
            st.breaker = std::move(breaker);
        }
    }
    if (auto n = integer_in(body, "bulkhead", 1, 1000000)) st.bulkhead = static_cast<int>(*n);
    if (auto v = number_in(body, "deadline_ms", 1, max_duration_ms)) st.deadline_ms = *v;
    st.fallback = fn_list(body.field("fallback"), "fallback");
    st.compensate = fn_list(body.field("compensate"), "compensate");
    if (const Node* c = body.field("cache")) read_cache(state, *c);
    if (st.any() && m_.strategy == Strategy::breadth_first)
        d_.error(body.loc,
                 fmt::format("state '{}': recovery strategies need strategy = \"depth_first\"", state.qualified));
    if (st.any() && (state.parallel || state.map || state.wait))
        d_.error(body.loc, fmt::format("state '{}': recovery strategies (circuit_breaker, bulkhead, deadline_ms, "
                                       "fallback, compensate, cache) do not apply to parallel, map or wait states",
                                       state.qualified));
}

void Builder::read_cache(State& state, const Node& c) {
    if (c.kind != Kind::table) return wrong_kind(c, "cache", "table");
    check_keys(c, cache_keys, "cache");
    StateCache cache;
    cache.loc = c.loc;
    if (auto v = number_in(c, "ttl_ms", 1, 1e15)) cache.ttl_ms = *v;
    else if (!c.field("ttl_ms")) d_.error(c.loc, "cache needs 'ttl_ms' (how long a result is kept, in ms)");
    if (const Node* key = c.field("key")) {
        if (key->kind == Kind::string) cache.key.push_back(key->str);
        else if (!is_list(*key)) wrong_kind(*key, "cache key", "field name or list of field names");
        else
            for (const auto& k : key->items) {
                if (k.kind == Kind::string) cache.key.push_back(k.str);
                else wrong_kind(k, "cache key entry", "string");
            }
    }
    auto db = string_of(c, "db", false);
    cache.db = workflow_path(db ? *db : "statenet-cache.db");
    state.strategies.cache = std::move(cache);
}

}  // namespace statenet::detail
