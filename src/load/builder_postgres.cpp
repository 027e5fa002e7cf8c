// `[resources.NAME] type = "postgres"` and the pool limits every resource kind shares.
#include "load/builder.hpp"

#include <fmt/format.h>

namespace statenet::detail {

void Builder::read_pool_limits(const Node& body, ResourceDecl& r) {
    if (const Node* pool = body.field("pool")) {
        if (pool->kind != Kind::integer || pool->integer < 1) d_.error(pool->loc, "'pool' must be a positive integer");
        else r.pool = static_cast<int>(pool->integer);
    }
    if (auto t = number_of(body, "acquire_timeout_ms")) {
        if (*t <= 0) d_.error(body.field("acquire_timeout_ms")->loc, "'acquire_timeout_ms' must be a positive number");
        else r.acquire_timeout_ms = *t;
    }
}

void Builder::read_postgres(const Node& body, ResourceDecl& r) {
    check_keys(body, postgres_keys, fmt::format("postgres resource '{}'", r.name));
    r.type = "postgres";
    if (auto dsn = string_of(body, "dsn", true)) {
        if (dsn->empty()) d_.error(body.field("dsn")->loc, "'dsn' must not be empty (a libpq conninfo string)");
        else r.postgres.dsn = *dsn;
    }
    read_pool_limits(body, r);
    if (auto t = number_of(body, "statement_timeout_ms")) {
        if (*t <= 0)
            d_.error(body.field("statement_timeout_ms")->loc, "'statement_timeout_ms' must be a positive number");
        else r.postgres.statement_timeout_ms = *t;
    }
}

}  // namespace statenet::detail
