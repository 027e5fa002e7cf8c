// Signals: a parked record claimed from its park database, its workflow loaded as it ran,
// and the record run on from its waiting state (Engine::signal, Engine::expire_signals,
// Workflow::signal).
#include "api/workflow_impl.hpp"
#include "history/park_store.hpp"

#include <statenet/engine.hpp>
#include <statenet/workflow.hpp>

#include <fmt/format.h>

#include <map>

namespace statenet {

namespace {

/// How the parked record's workflow was loaded, so it runs on as it ran: its vars, its
/// data mode, and its history (recorded in `db`, where it parked) or its park database.
LoadOptions options_for(const detail::ParkedEntry& entry, const std::filesystem::path& db) {
    LoadOptions options;
    const Value& load = entry.load;
    if (load["vars"].is_object())
        for (const auto& [key, value] : load["vars"].as_object()) options.vars[key] = value;
    if (load["params"].is_object())
        for (const auto& [key, value] : load["params"].as_object()) options.params[key] = value;
    if (load["profile"].is_string() && !load["profile"].as_string().empty())
        options.profile = load["profile"].as_string();
    if (load["mode"].is_string()) options.data_mode = parse_data_mode(load["mode"].as_string());
    const auto level = load["history"].is_string() ? parse_history_level(load["history"].as_string()) : std::nullopt;
    if (level && *level != HistoryLevel::off) {
        options.history_db = db;
        options.history_level = level;
    } else {
        options.park_db = db;
    }
    return options;
}

/// Runs a claimed record on `workflow` and marks it resumed; when it cannot run (another
/// workflow, a state that is gone) the claim is released and the record waits again.
Result resume_claimed(const Workflow& workflow, detail::ParkClaims& claims, const detail::ParkedEntry& entry,
                      const std::optional<Value>& payload) {
    const std::string& id = entry.info.run_id;
    Result result;
    try {
        if (entry.info.workflow != workflow.name())
            throw SignalError(
                fmt::format("run {} was parked by workflow '{}', not '{}'", id, entry.info.workflow, workflow.name()));
        if (entry.scripts_hash != workflow.impl().model()->scripts_hash) {
            const Value none;
            workflow.impl().engine->log(LogRecord{
                LogLevel::warn, "",
                fmt::format("run {}: the workflow changed since the record parked; it runs on the current version", id),
                none});
        }
        RunOptions options;
        options.position = entry.record.position;
        detail::RunnerLease runner(workflow.impl().runners());
        result = runner->resume(entry.record, Value::from_json(entry.record.data), payload, options);
    } catch (const std::invalid_argument& e) {
        claims.release(id);
        throw SignalError(fmt::format("run {} cannot go on: {}", id, e.what()));
    } catch (...) {
        claims.release(id);
        throw;
    }
    claims.finish(id, payload ? entry.record.signal : "SignalTimeout", detail::unix_now_us());
    workflow.flush_history();
    return result;
}

/// Loads the workflow a claimed record parked by; the claim is released when it fails.
Workflow load_parked(Engine& engine, detail::ParkClaims& claims, const detail::ParkedEntry& entry,
                     const std::filesystem::path& db) {
    try {
        return engine.load(entry.info.file, options_for(entry, db));
    } catch (...) {
        claims.release(entry.info.run_id);
        throw;
    }
}

}  // namespace

Result Engine::signal(const std::filesystem::path& db, std::string_view run_id, std::string_view signal,
                      const Value& payload) {
    detail::ParkClaims claims(db);
    const detail::ParkedEntry entry = claims.claim(run_id, std::string(signal), detail::unix_now_us());
    const Workflow workflow = load_parked(*this, claims, entry, db);
    return resume_claimed(workflow, claims, entry, payload);
}

std::vector<Result> Engine::expire_signals(const std::filesystem::path& db, std::optional<std::int64_t> now_us) {
    detail::ParkClaims claims(db);
    const std::int64_t now = now_us.value_or(detail::unix_now_us());
    std::map<std::string, Workflow> loaded;  // by file and load options: each loaded once
    std::vector<Result> results;
    for (const std::string& id : claims.overdue(now)) {
        detail::ParkedEntry entry;
        try {
            entry = claims.claim(id, std::nullopt, now);
        } catch (const SignalError&) {
            continue;  // another process took it meanwhile
        }
        const std::string key = entry.info.file + '\n' + entry.load.to_json();
        auto it = loaded.find(key);
        if (it == loaded.end()) it = loaded.emplace(key, load_parked(*this, claims, entry, db)).first;
        results.push_back(resume_claimed(it->second, claims, entry, std::nullopt));
    }
    return results;
}

Result Workflow::signal(std::string_view run_id, std::string_view signal, const Value& payload) const {
    const std::string db = impl_->model()->park_db;
    if (db.empty()) throw SignalError(fmt::format("workflow '{}' has no wait states: nothing parks", name()));
    detail::ParkClaims claims(db);
    const detail::ParkedEntry entry = claims.claim(run_id, std::string(signal), detail::unix_now_us());
    return resume_claimed(*this, claims, entry, payload);
}

}  // namespace statenet
