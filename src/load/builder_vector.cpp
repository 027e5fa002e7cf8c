// The model builder's `[resources.<name>] type = "vector"`: path, dim, metric.
#include "load/builder.hpp"

#include <fmt/format.h>

#include <filesystem>

namespace statenet::detail {

void Builder::read_vector_resource(const Node& body, ResourceDecl& r) {
    check_keys(body, vector_resource_keys, fmt::format("vector resource '{}'", r.name));
    if (auto path = string_of(body, "path", true)) {
        std::filesystem::path p(*path);
        r.path = p.is_absolute() ? *path : (std::filesystem::path(m_.dir) / p).string();
    }
    if (const Node* dim = body.field("dim")) {
        if (dim->kind != Kind::integer || dim->integer < 1 || dim->integer > 65536)
            d_.error(dim->loc, "'dim' must be an integer from 1 to 65536");
        else r.dim = static_cast<int>(dim->integer);
    } else {
        d_.error(body.loc, fmt::format("vector resource '{}' needs 'dim' (the length of its vectors)", r.name));
    }
    if (auto metric = string_of(body, "metric", false)) {
        if (*metric == "cosine" || *metric == "dot" || *metric == "l2") r.metric = *metric;
        else
            d_.error(body.field("metric")->loc, fmt::format("unknown metric '{}' (expected cosine, dot or l2){}",
                                                            *metric, suggest(*metric, {"cosine", "dot", "l2"})));
    }
}

}  // namespace statenet::detail
