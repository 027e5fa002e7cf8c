// `[resources.NAME] type = "postgres"` and the pool limits every resource kind shares.
#include "load/builder.hpp"

#include <fmt/format.h>

namespace statenet::detail {

void Builder::read_pool_limits(const Node& body, ResourceDecl& r) {
    if (auto pool = integer_in(body, "pool", 1, max_pool)) r.pool = static_cast<int>(*pool);
    if (auto t = number_in(body, "acquire_timeout_ms", 1, max_duration_ms)) r.acquire_timeout_ms = *t;
}

void Builder::read_postgres(const Node& body, ResourceDecl& r) {
    check_keys(body, postgres_keys, fmt::format("postgres resource '{}'", r.name));
    r.type = "postgres";
    if (auto dsn = string_of(body, "dsn", true)) {
        if (dsn->empty()) d_.error(body.field("dsn")->loc, "'dsn' must not be empty (a libpq conninfo string)");
        else r.postgres.dsn = *dsn;
    }
    read_pool_limits(body, r);
    if (auto t = number_in(body, "statement_timeout_ms", 1, max_duration_ms)) r.postgres.statement_timeout_ms = *t;
}

}  // namespace statenet::detail
