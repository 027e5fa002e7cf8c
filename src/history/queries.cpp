// History: the query API over a history database (runs, steps, stats, prune).
#include <statenet/history.hpp>

#include "history/park_store.hpp"
#include "history/retention.hpp"
#include "history/schema.hpp"

#include <SQLiteCpp/SQLiteCpp.h>
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <variant>

namespace statenet {

struct History::Impl {
    std::filesystem::path path;
    std::unique_ptr<SQLite::Database> db;
};

namespace {

using Bind = std::variant<std::int64_t, std::string>;

constexpr const char* run_columns =
    "r.id, r.run_id, w.name, w.version, w.file, w.scripts_hash, r.position, r.ok, r.final_state, r.error_name, "
    "r.error_message, r.error_state, r.started_us, r.duration_ns, r.transitions, r.level, r.input, r.output, "
    "r.prompt_tokens, r.completion_tokens, r.resources";
constexpr const char* run_tables = " FROM runs r JOIN workflows w ON w.id = r.workflow";
// The steps of run r: step_rows' `run` is the runs row, so the lookup is by rowid.
constexpr const char* run_steps = "s.run = r.id";

std::optional<ErrorInfo> error_at(SQLite::Statement& q, int first) {
    if (q.getColumn(first).isNull()) return std::nullopt;
    return ErrorInfo{q.getColumn(first).getString(), q.getColumn(first + 1).getString(),
                     q.getColumn(first + 2).getString()};
}

std::optional<Value> json_at(SQLite::Statement& q, int index) {
    if (q.getColumn(index).isNull()) return std::nullopt;
    return Value::from_json(q.getColumn(index).getString());
}

TokenUsage usage_at(SQLite::Statement& q, int first) {
    return TokenUsage{static_cast<std::uint64_t>(q.getColumn(first).getInt64()),
                      static_cast<std::uint64_t>(q.getColumn(first + 1).getInt64())};
}

// runs.resources (see the schema) as the public rows; a health left out was ok.
std::vector<ResourceUse> resource_uses(const Value& stored) {
    std::vector<ResourceUse> out;
    if (!stored.is_object()) return out;
    for (const auto& member : stored.as_object()) {
        const Value& v = member.second;  // (clang 14 lambdas cannot capture a structured binding)
        ResourceUse& use = out.emplace_back();
        use.name = member.first;
        auto number = [&](std::string_view key) {
            const Value* n = v.is_object() ? v.find(key) : nullptr;
            return n && n->is_number() ? n->as_number() : 0.0;
        };
        const Value* type = v.is_object() ? v.find("type") : nullptr;
        use.type = type && type->is_string() ? type->as_string() : "";
        use.calls = static_cast<std::uint64_t>(number("calls"));
        use.errors = static_cast<std::uint64_t>(number("errors"));
        use.latency_ms = number("latency_ms");
        const Value* health = v.is_object() ? v.find("health") : nullptr;
        if (health && health->is_string()) use.health = health->as_string();
    }
    return out;
}

HistoryRun read_run(SQLite::Statement& q) {
    HistoryRun run;
    run.id = q.getColumn(0).getInt64();
    run.run_id = q.getColumn(1).getString();
    run.workflow = q.getColumn(2).getString();
    run.version = q.getColumn(3).getString();
    run.file = q.getColumn(4).getString();
    run.scripts_hash = q.getColumn(5).getString();
    if (!q.getColumn(6).isNull()) run.position = q.getColumn(6).getInt64();
    run.ok = q.getColumn(7).getInt() != 0;
    run.final_state = q.getColumn(8).getString();
    run.error = error_at(q, 9);
    run.started_us = q.getColumn(12).getInt64();
    run.duration_ns = q.getColumn(13).getInt64();
    run.transitions = q.getColumn(14).getInt64();
    run.level = parse_history_level(q.getColumn(15).getString()).value_or(HistoryLevel::runs);
    run.input = json_at(q, 16);
    run.output = json_at(q, 17);
    run.usage = usage_at(q, 18);
    if (auto resources = json_at(q, 20)) run.resources = resource_uses(*resources);
    return run;
}

void bind_all(SQLite::Statement& q, const std::vector<Bind>& binds) {
    for (std::size_t i = 0; i < binds.size(); ++i) {
        const int index = static_cast<int>(i + 1);
        if (const auto* n = std::get_if<std::int64_t>(&binds[i])) q.bind(index, *n);
        else q.bind(index, std::get<std::string>(binds[i]));
    }
}

double percentile(std::vector<std::int64_t>& sorted, double p) {
    if (sorted.empty()) return 0;
    const auto rank = static_cast<std::size_t>(std::ceil(p * static_cast<double>(sorted.size())));
    return static_cast<double>(sorted[std::min(sorted.size() - 1, rank > 0 ? rank - 1 : 0)]) / 1000.0;
}

template <typename F>
auto guarded(const std::filesystem::path& path, F&& f) -> decltype(f()) {
    try {
        return f();
    } catch (const SQLite::Exception& e) {
        throw HistoryError(fmt::format("history database '{}': {}", path.string(), e.what()));
    } catch (const JsonError& e) {
        throw HistoryError(
            fmt::format("history database '{}': a stored record is not JSON: {}", path.string(), e.what()));
    }
}

}  // namespace

History::History(const std::filesystem::path& db) : impl_(std::make_unique<Impl>()) {
    impl_->path = db;
    impl_->db = detail::open_history_db(db.string(), false);
}

History::~History() = default;
History::History(History&&) noexcept = default;
History& History::operator=(History&&) noexcept = default;

const std::filesystem::path& History::path() const noexcept { return impl_->path; }

HistoryRun History::run(std::string_view id) const {
    return guarded(impl_->path, [&] {
        std::string sql = fmt::format("SELECT {}{} WHERE ", run_columns, run_tables);
        std::string key(id);
        if (!key.empty() && key.front() == '#') sql += "r.id = CAST(substr(?, 2) AS INTEGER)";
        else sql += "substr(r.run_id, 1, length(?1)) = ?1";
        sql += " LIMIT 2";
        SQLite::Statement q(*impl_->db, sql);
        q.bind(1, key);
        if (key.empty() || !q.executeStep())
            throw HistoryError(fmt::format("no run '{}' in history database '{}'", key, impl_->path.string()));
        HistoryRun run = read_run(q);
        if (q.executeStep())
            throw HistoryError(
                fmt::format("run id '{}' is ambiguous in '{}': give more of it", key, impl_->path.string()));
        return run;
    });
}

namespace {

/// The WHERE clause (over `runs r` and `workflows w`) that selects the filter's runs.
std::string where_clause(const History& history, const HistoryFilter& f, std::vector<Bind>& binds) {
    std::string sql = " WHERE 1";
    if (f.ok) sql += *f.ok ? " AND r.ok = 1" : " AND r.ok = 0";
    if (!f.workflow.empty()) {
        sql += " AND w.name = ?";
        binds.emplace_back(f.workflow);
    }
    if (f.since_us) {
        sql += " AND r.started_us >= ?";
        binds.emplace_back(*f.since_us);
    }
    if (f.until_us) {
        sql += " AND r.started_us < ?";
        binds.emplace_back(*f.until_us);
    }
    if (!f.state.empty()) {
        if (f.state.find('/') != std::string::npos) {
            sql += " AND (r.final_state = ? OR EXISTS (SELECT 1 FROM step_rows s WHERE " + std::string(run_steps) +
                   " AND s.network || '/' || s.state = ?))";
        } else {
            sql +=
                " AND (substr(r.final_state, instr(r.final_state, '/') + 1) = ? OR "
                "EXISTS (SELECT 1 FROM step_rows s WHERE " +
                std::string(run_steps) + " AND s.state = ?))";
        }
        binds.emplace_back(f.state);
        binds.emplace_back(f.state);
    }
    if (!f.runs.empty()) {
        std::string ids;
        for (const auto& id : f.runs) ids += (ids.empty() ? "" : ",") + std::to_string(history.run(id).id);
        sql += " AND r.id IN (" + ids + ")";
    }
    return sql;
}

}  // namespace

std::vector<HistoryRun> History::runs(const HistoryFilter& filter) const {
    return guarded(impl_->path, [&] {
        std::vector<Bind> binds;
        std::string sql = fmt::format("SELECT {}{}{}", run_columns, run_tables, where_clause(*this, filter, binds));
        if (filter.limit > 0) sql += fmt::format(" ORDER BY r.id DESC LIMIT {}", filter.limit);
        else sql += " ORDER BY r.id";
        SQLite::Statement q(*impl_->db, sql);
        bind_all(q, binds);
        std::vector<HistoryRun> runs;
        while (q.executeStep()) runs.push_back(read_run(q));
        if (filter.limit > 0) std::reverse(runs.begin(), runs.end());
        return runs;
    });
}

std::vector<HistoryStep> History::steps(const HistoryRun& run) const {
    return guarded(impl_->path, [&] {
        SQLite::Statement q(
            *impl_->db,
            "SELECT seq, parent, via, network, state, arc, event, attempt, depth, status, duration_ns, "
            "error_name, error_message, error_state, changes, reason FROM step_rows WHERE run = ?1 ORDER BY seq");
        q.bind(1, run.id);
        std::vector<HistoryStep> steps;
        while (q.executeStep()) {
            HistoryStep& s = steps.emplace_back();
            s.seq = q.getColumn(0).getInt64();
            if (!q.getColumn(1).isNull()) s.parent = q.getColumn(1).getInt64();
            s.via = q.getColumn(2).getString();
            s.network = q.getColumn(3).getString();
            s.state = q.getColumn(4).getString();
            s.arc = q.getColumn(5).getString();
            s.event = q.getColumn(6).getString();
            s.attempt = q.getColumn(7).getInt();
            s.depth = q.getColumn(8).getInt();
            s.status = q.getColumn(9).getString();
            s.duration_ns = q.getColumn(10).getInt64();
            s.error = error_at(q, 11);
            s.changes = json_at(q, 14);
            if (!q.getColumn(15).isNull()) s.reason = q.getColumn(15).getString();
        }
        return steps;
    });
}

namespace {

// Adds one run's tokens and resource calls to the totals.
void add_usage(HistoryStats& stats, const TokenUsage& usage, const SQLite::Column& resources) {
    stats.usage.prompt_tokens += usage.prompt_tokens;
    stats.usage.completion_tokens += usage.completion_tokens;
    if (resources.isNull()) return;
    for (ResourceUse& use : resource_uses(Value::from_json(resources.getString()))) {
        auto total = std::find_if(stats.resources.begin(), stats.resources.end(),
                                  [&](const ResourceUse& r) { return r.name == use.name; });
        if (total == stats.resources.end()) {
            use.health.clear();
            stats.resources.push_back(std::move(use));
            continue;
        }
        total->calls += use.calls;
        total->errors += use.errors;
        total->latency_ms += use.latency_ms;
    }
}

}  // namespace

HistoryStats History::stats(const HistoryFilter& filter) const {
    return guarded(impl_->path, [&] {
        HistoryStats stats;
        std::vector<Bind> binds;
        const std::string where = where_clause(*this, filter, binds);
        std::map<std::string, ErrorStats> errors;
        SQLite::Statement runs(
            *impl_->db, fmt::format("SELECT r.ok, r.error_name, r.prompt_tokens, r.completion_tokens, r.resources{}{}",
                                    run_tables, where));
        bind_all(runs, binds);
        while (runs.executeStep()) {
            ++stats.runs;
            if (runs.getColumn(0).getInt()) ++stats.ok;
            else ++stats.failed;
            add_usage(stats, usage_at(runs, 2), runs.getColumn(4));
            if (!runs.getColumn(1).isNull()) {
                const std::string name = runs.getColumn(1).getString();
                errors[name].name = name;
                ++errors[name].runs;
            }
        }
        struct Acc {
            StateStats stats;
            std::vector<std::int64_t> durations;
        };
        std::map<std::string, Acc> states;
        SQLite::Statement steps(*impl_->db,
                                fmt::format("SELECT s.network || '/' || s.state, s.status, s.duration_ns, "
                                            "s.error_name FROM runs r JOIN workflows w ON w.id = r.workflow "
                                            "JOIN step_rows s ON {}{}",
                                            run_steps, where));
        bind_all(steps, binds);
        while (steps.executeStep()) {
            Acc& acc = states[steps.getColumn(0).getString()];
            ++acc.stats.entries;
            acc.durations.push_back(steps.getColumn(2).getInt64());
            if (steps.getColumn(1).getString() == "failed") {
                ++acc.stats.failures;
                if (!steps.getColumn(3).isNull()) {
                    const std::string name = steps.getColumn(3).getString();
                    errors[name].name = name;
                    ++errors[name].steps;
                }
            }
        }
        for (auto& [name, acc] : states) {
            std::sort(acc.durations.begin(), acc.durations.end());
            acc.stats.state = name;
            acc.stats.p50_us = percentile(acc.durations, 0.5);
            acc.stats.p95_us = percentile(acc.durations, 0.95);
            stats.states.push_back(acc.stats);
        }
        std::stable_sort(stats.states.begin(), stats.states.end(),
                         [](const StateStats& a, const StateStats& b) { return a.entries > b.entries; });
        for (auto& [name, e] : errors) stats.errors.push_back(e);
        std::stable_sort(stats.errors.begin(), stats.errors.end(),
                         [](const ErrorStats& a, const ErrorStats& b) { return a.steps + a.runs > b.steps + b.runs; });
        return stats;
    });
}

std::vector<ParkedRun> History::parked(bool all) const { return detail::list_parked(*impl_->db, all); }

std::int64_t History::prune(const PruneOptions& options) {
    return guarded(impl_->path, [&] { return detail::prune_history(*impl_->db, options); });
}

}  // namespace statenet
