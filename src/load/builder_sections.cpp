// The workflow's top-level keys and its sections: scripts, transaction, reference,
// recovery, history and resources.
#include "load/builder.hpp"
#include "load/sandbox_keys.hpp"
#include "resources/sqlite_resource.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <filesystem>

namespace statenet::detail {

void Builder::build(const Node& root) {
    if (root.kind != Kind::table) {
        d_.error(root.loc, "a workflow must be a table");
        return;
    }
    check_keys(root, top_keys, "workflow");
    if (auto n = string_of(root, "name", true)) m_.name = *n;
    if (const Node* v = root.field("version")) {
        if (v->kind == Kind::string) m_.version = v->str;
        else if (v->kind == Kind::integer) m_.version = std::to_string(v->integer);
        else if (v->kind == Kind::number) m_.version = fmt::format("{}", v->number);
        else wrong_kind(*v, "version", "string");
    }
    string_of(root, "description", false);
    read_scripts(root);
    if (auto mode = string_of(root, "data_mode", false)) m_.mode = data_mode(*mode, *root.field("data_mode"));
    if (auto s = string_of(root, "strategy", false)) {
        if (*s == "depth_first") m_.strategy = Strategy::depth_first;
        else if (*s == "breadth_first") m_.strategy = Strategy::breadth_first;
        else
            d_.error(root.field("strategy")->loc,
                     fmt::format("unknown strategy '{}' (expected depth_first or breadth_first){}", *s,
                                 suggest(*s, {"depth_first", "breadth_first"})));
    }
    if (auto n = integer_in(root, "max_transitions", 1, max_count)) m_.max_transitions = *n;
    if (auto t = number_in(root, "timeout_ms", 0, max_duration_ms)) m_.timeout_ms = *t;
    read_sandbox_keys(root, m_, d_);
    if (const Node* n = root.field("in_flight")) {
        if (n->kind != Kind::integer || n->integer < 1 || n->integer > 4096)
            d_.error(n->loc, "'in_flight' must be an integer from 1 to 4096");
        else m_.in_flight = n->integer;
    }
    if (const Node* vars = root.field("vars")) {
        if (vars->kind != Kind::table) wrong_kind(*vars, "vars", "table");
        else m_.vars = to_value(*vars);
    }
    read_transaction(root.field("transaction"));
    read_history(root.field("history"));
    if (const Node* r = root.field("resources")) read_resources(*r);
    read_reference(root);
    read_recovery(root.field("recovery"));
    read_retention(root.field("retention"));
    read_child_workflows(root.field("machines"));
    read_supervision(root.field("supervision"));
    read_actions(root.field("actions"));
    read_branch_join(root.field("branches"));
    read_networks(root);
}

void Builder::read_scripts(const Node& root) {
    m_.module_dirs.push_back(m_.dir);
    const Node* s = root.field("scripts");
    if (!s) return;
    std::vector<const Node*> dirs;
    if (s->kind == Kind::string) dirs.push_back(s);
    else if (is_list(*s))
        for (const auto& item : s->items) dirs.push_back(&item);
    else wrong_kind(*s, "scripts", "list of directories");
    for (const Node* dir : dirs) {
        if (dir->kind != Kind::string) {
            wrong_kind(*dir, "scripts entry", "string");
            continue;
        }
        auto path = (std::filesystem::path(m_.dir) / dir->str).lexically_normal();
        std::error_code ec;
        if (!std::filesystem::is_directory(path, ec))
            d_.error(dir->loc, fmt::format("scripts directory '{}' does not exist", path.string()));
        m_.module_dirs.push_back(path.string());
    }
}

void Builder::read_transaction(const Node* t) {
    if (!t) return;
    if (t->kind != Kind::table) return wrong_kind(*t, "transaction", "table");
    check_keys(*t, transaction_keys, "[transaction]");
    if (auto s = string_of(*t, "strategy", false)) {
        if (*s == "single") m_.transaction.strategy = TransactionConfig::Strategy::single;
        else if (*s == "batch") m_.transaction.strategy = TransactionConfig::Strategy::batch;
        else if (*s == "manual") m_.transaction.strategy = TransactionConfig::Strategy::manual;
        else
            d_.error(t->field("strategy")->loc,
                     fmt::format("unknown transaction strategy '{}' (expected single, batch or manual){}", *s,
                                 suggest(*s, {"single", "batch", "manual"})));
    }
    if (auto b = integer_in(*t, "batch_size", 1, max_count)) m_.transaction.batch_size = *b;
}

// `[reference]` names a declared sqlite resource, so it is read after [resources].
void Builder::read_reference(const Node& root) {
    const Node* r = root.field("reference");
    const Node* mode = root.field("data_mode");
    if (!r) {
        if (m_.mode == DataMode::reference)
            d_.error(mode->loc, "data_mode 'reference' needs a [reference] table (resource, table, key, version)");
        return;
    }
    if (r->kind != Kind::table) return wrong_kind(*r, "reference", "table");
    check_keys(*r, reference_keys, "[reference]");
    if (auto name = string_of(*r, "resource", true)) {
        std::vector<std::string_view> declared;
        for (std::size_t i = 0; i < m_.resources.size(); ++i) {
            declared.push_back(m_.resources[i].name);
            if (m_.resources[i].name == *name) m_.reference.resource = static_cast<int>(i);
        }
        if (m_.reference.resource < 0)
            d_.error(r->field("resource")->loc, fmt::format("unknown resource '{}' (declare it under [resources.{}]){}",
                                                            *name, *name, suggest(*name, declared)));
        else if (const auto& chosen = m_.resources[static_cast<std::size_t>(m_.reference.resource)];
                 chosen.type != "sqlite")
            d_.error(r->field("resource")->loc,
                     fmt::format("reference mode on a {} resource ('{}') is not implemented yet: use a sqlite resource",
                                 chosen.type, *name));
    }
    auto identifier = [&](const char* key, std::string& into, bool required) {
        auto text = string_of(*r, key, required);
        if (!text) return;
        if (!is_identifier(*text))
            d_.error(r->field(key)->loc,
                     fmt::format("[reference] {} '{}' must be a SQL identifier (letters, digits, _)", key, *text));
        into = *text;
    };
    identifier("table", m_.reference.table, true);
    identifier("key", m_.reference.key, false);
    identifier("version", m_.reference.version, false);
    if (m_.reference.key == m_.reference.version)
        d_.error(r->loc, "[reference] key and version must be different columns");
}

void Builder::read_recovery(const Node* r) {
    if (!r) return;
    if (r->kind != Kind::table) return wrong_kind(*r, "recovery", "table");
    check_keys(*r, recovery_keys, "[recovery]");
    auto idle = number_of(*r, "idle_ms");
    auto event = string_of(*r, "event", true);
    if (!r->field("idle_ms")) d_.error(r->loc, "missing required key 'idle_ms'");
    else if (idle && !(*idle > 0 && std::isfinite(*idle)))
        d_.error(r->field("idle_ms")->loc, "'idle_ms' must be a positive number");
    else if (idle) m_.recovery.idle_ms = *idle;
    if (event && event->empty()) d_.error(r->field("event")->loc, "'event' must not be empty");
    else if (event) m_.recovery.event = *event;
}

void Builder::read_retention(const Node* r) {
    if (!r) return;
    if (r->kind != Kind::table) return wrong_kind(*r, "retention", "table");
    check_keys(*r, retention_keys, "[retention]");
    if (auto ms = number_in(*r, "keys_ms", 0, max_duration_ms)) m_.retention.keys_ms = *ms;
    if (auto ms = number_in(*r, "audit_ms", 0, max_duration_ms)) m_.retention.audit_ms = *ms;
    if (auto ms = number_in(*r, "completed_ms", 0, max_duration_ms)) m_.retention.completed_ms = *ms;
}

void Builder::read_actions(const Node* a) {
    if (!a) return;
    if (a->kind != Kind::table) return wrong_kind(*a, "actions", "table");
    for (std::size_t i = 0; i < a->fields.size(); ++i) {
        const auto& [name, body] = a->fields[i];
        MachineAction action;
        action.name = name;
        action.loc = key_loc(*a, i);
        // A table with `run` is the long form; anything else is the function itself.
        if (body.kind == Kind::table && body.field("run")) {
            check_keys(body, action_keys, fmt::format("[actions.{}]", name));
            if (auto id = fn_ref(*body.field("run"), "run")) action.run = *id;
            if (auto ms = number_in(body, "timeout_ms", 1, max_duration_ms)) action.timeout_ms = *ms;
            if (auto restart = string_of(body, "on_restart", false)) {
                if (*restart == "rerun" || *restart == "fail") action.rerun = *restart == "rerun";
                else
                    d_.error(body.field("on_restart")->loc,
                             fmt::format("unknown on_restart '{}' (expected rerun or fail){}", *restart,
                                         suggest(*restart, {"rerun", "fail"})));
            }
        } else if (auto id = fn_ref(body, "action")) {
            action.run = *id;
        }
        if (action.run >= 0) m_.actions.push_back(std::move(action));
    }
}

void Builder::read_history(const Node* h) {
    if (!h) return;
    if (h->kind != Kind::table) return wrong_kind(*h, "history", "table");
    check_keys(*h, history_keys, "[history]");
    HistoryConfig& c = m_.history;
    c.loc = h->loc;
    if (auto level = string_of(*h, "level", false)) {
        if (auto parsed = parse_history_level(*level)) c.level = *parsed;
        else
            d_.error(h->field("level")->loc,
                     fmt::format("unknown history level '{}' (expected off, runs, steps or full){}", *level,
                                 suggest(*level, {"off", "runs", "steps", "full"})));
    }
    if (auto db = string_of(*h, "db", false)) {
        c.loc = h->field("db")->loc;
        if (db->empty()) d_.error(c.loc, "'db' must name a database file");
        else c.db = std::filesystem::path(*db).is_absolute() ? *db : (std::filesystem::path(m_.dir) / *db).string();
    }
    if (auto durability = string_of(*h, "durability", false)) {
        if (*durability == "full") c.durability_full = true;
        else if (*durability != "normal")
            d_.error(h->field("durability")->loc,
                     fmt::format("unknown history durability '{}' (expected normal or full){}", *durability,
                                 suggest(*durability, {"normal", "full"})));
    }
    if (const Node* n = h->field("max_runs")) {
        if (n->kind != Kind::integer || n->integer <= 0) d_.error(n->loc, "'max_runs' must be a positive integer");
        else c.max_runs = n->integer;
    }
    if (const Node* n = h->field("max_age")) {
        std::optional<std::int64_t> seconds;
        if (n->kind == Kind::integer && n->integer > 0) seconds = n->integer;
        else if (n->kind == Kind::string) seconds = parse_history_age(n->str);
        if (!seconds || *seconds <= 0 || *seconds > max_history_age_seconds)
            d_.error(n->loc, fmt::format("'max_age' must be a duration such as \"30d\", \"12h\", \"90m\" or a "
                                         "number of seconds, at most {} (100 years)",
                                         max_history_age_seconds));
        else c.max_age_seconds = *seconds;
    }
}

void Builder::read_resources(const Node& list) {
    if (list.kind != Kind::table) return wrong_kind(list, "resources", "table");
    for (std::size_t i = 0; i < list.fields.size(); ++i) {
        const auto& [name, body] = list.fields[i];
        if (body.kind != Kind::table) {
            wrong_kind(body, "resources." + name, "table");
            continue;
        }
        ResourceDecl r;
        r.name = name;
        r.loc = body.loc;
        if (const Node* t = body.field("type"); t && t->kind == Kind::string && t->str == "postgres") {
            read_postgres(body, r);
            m_.resources.push_back(std::move(r));
            continue;
        }
        auto type = string_of(body, "type", true);
        if (type && (*type == "vector" || *type == "files")) {
            r.type = *type;
            if (r.type == "vector") read_vector_resource(body, r);
            else read_files_resource(body, r);
            m_.resources.push_back(std::move(r));
            continue;
        }
        if (type && (*type == "http" || *type == "llm")) {
            r.type = *type;
            if (r.type == "http") read_http_resource(r, body);
            else read_llm_resource(r, body);
            m_.resources.push_back(std::move(r));
            continue;
        }
        check_keys(body, resource_keys, fmt::format("resource '{}'", name));
        if (!type) continue;
        r.type = *type;
        if (r.type == "filesystem") {
            d_.error(body.field("type")->loc, "unknown resource type 'filesystem' (did you mean 'files'?)");
            continue;
        }
        if (r.type != "sqlite") {
            d_.error(body.field("type")->loc,
                     fmt::format("unknown resource type '{}'{}", r.type,
                                 suggest(r.type, {"sqlite", "postgres", "files", "http", "llm", "vector"})));
            continue;
        }
        if (auto path = string_of(body, "path", true)) {
            std::filesystem::path p(*path);
            r.path = *path == ":memory:" || p.is_absolute() ? *path : (std::filesystem::path(m_.dir) / p).string();
        }
        read_pool_limits(body, r);
        if (auto t = number_in(body, "busy_timeout_ms", 0, max_duration_ms)) r.busy_timeout_ms = *t;
        m_.resources.push_back(std::move(r));
    }
}

void Builder::use_resources(State& state, const Node& list) {
    std::vector<const Node*> names;
    if (list.kind == Kind::string) names.push_back(&list);
    else if (is_list(list))
        for (const auto& item : list.items) names.push_back(&item);
    else return wrong_kind(list, "resources", "list of resource names");
    std::vector<std::string_view> declared;
    for (const auto& r : m_.resources) declared.push_back(r.name);
    for (const Node* name : names) {
        if (name->kind != Kind::string) {
            wrong_kind(*name, "resources entry", "string");
            continue;
        }
        auto found = std::find(declared.begin(), declared.end(), name->str);
        if (found == declared.end()) {
            d_.error(name->loc, fmt::format("unknown resource '{}' (declare it under [resources.{}]){}", name->str,
                                            name->str, suggest(name->str, declared)));
            continue;
        }
        int id = static_cast<int>(found - declared.begin());
        if (std::find(state.resources.begin(), state.resources.end(), id) == state.resources.end())
            state.resources.push_back(id);
    }
}

void Builder::choose_main(const Node& root) {
    const Node* main = root.field("main");
    if (!main) {
        m_.main = 0;
        return;
    }
    if (main->kind != Kind::string) return wrong_kind(*main, "main", "network name");
    std::vector<std::string_view> nets;
    for (std::size_t i = 0; i < m_.networks.size(); ++i) {
        nets.push_back(m_.networks[i].name);
        if (m_.networks[i].name == main->str) {
            m_.main = static_cast<int>(i);
            return;
        }
    }
    d_.error(main->loc, fmt::format("unknown main network '{}'{}", main->str, suggest(main->str, nets)));
}

}  // namespace statenet::detail
