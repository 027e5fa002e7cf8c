// The builder's supervision sections: `[machines.NAME]` child workflows and
// `[supervision]` (health check, breaker, removal and restart limits).
#include "load/builder.hpp"

#include <fmt/format.h>

#include <filesystem>

namespace statenet::detail {

/// `[machines.NAME] workflow = "path"` (or `[machines] NAME = "path"`): the workflows a
/// child spec's `workflow` may name.
void Builder::read_child_workflows(const Node* m) {
    if (!m) return;
    if (m->kind != Kind::table) return wrong_kind(*m, "machines", "table of child workflows");
    for (std::size_t i = 0; i < m->fields.size(); ++i) {
        const auto& [name, body] = m->fields[i];
        ChildWorkflow decl;
        decl.name = name;
        decl.loc = key_loc(*m, i);
        const Node* path = nullptr;
        if (body.kind == Kind::string) {
            path = &body;
        } else if (body.kind == Kind::table) {
            check_keys(body, machine_decl_keys, fmt::format("[machines.{}]", name));
            path = body.field("workflow");
            if (!path) {
                d_.error(body.loc, fmt::format("[machines.{}] needs 'workflow' (the child workflow's file)", name));
                continue;
            }
        } else {
            wrong_kind(body, "machines." + name, "table");
            continue;
        }
        if (path->kind != Kind::string || path->str.empty()) {
            wrong_kind(*path, fmt::format("machines.{}.workflow", name), "file path");
            continue;
        }
        std::filesystem::path file(path->str);
        if (!file.is_absolute()) file = std::filesystem::path(m_.dir) / file;
        decl.path = file.lexically_normal().string();
        std::error_code ec;
        if (!std::filesystem::is_regular_file(decl.path, ec))
            d_.error(path->loc, fmt::format("child workflow '{}' does not exist", decl.path));
        m_.machines.push_back(std::move(decl));
    }
}

void Builder::read_supervision(const Node* s) {
    if (!s) return;
    if (s->kind != Kind::table) return wrong_kind(*s, "supervision", "table");
    check_keys(*s, supervision_keys, "[supervision]");
    SupervisionConfig& c = m_.supervision;
    c.loc = s->loc;
    if (const Node* h = s->field("health")) c.health = fn_ref(*h, "health");
    if (auto ms = number_in(*s, "removal_timeout_ms", 0, max_duration_ms)) c.removal_timeout_ms = *ms;
    if (auto n = integer_in(*s, "breaker_failures", 1, max_count)) c.breaker_failures = *n;
    if (auto ms = number_in(*s, "backoff_ms", 0, max_duration_ms)) c.backoff_ms = *ms;
    if (auto ms = number_in(*s, "max_backoff_ms", 0, max_duration_ms)) c.max_backoff_ms = *ms;
    if (auto n = integer_in(*s, "max_restarts", 0, max_count)) c.max_restarts = *n;
    if (auto ms = number_in(*s, "restart_window_ms", 0, max_duration_ms)) c.restart_window_ms = *ms;
    if (c.max_backoff_ms < c.backoff_ms)
        d_.error(s->loc,
                 fmt::format("'max_backoff_ms' ({}) is below 'backoff_ms' ({})", c.max_backoff_ms, c.backoff_ms));
}

}  // namespace statenet::detail
