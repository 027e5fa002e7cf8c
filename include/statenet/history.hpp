// statenet::History: execution history levels, the recorded rows, and queries and replay over a history database.
#pragma once

#include <statenet/error.hpp>
#include <statenet/export.hpp>
#include <statenet/result.hpp>
#include <statenet/value.hpp>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace statenet {

class Workflow;

/// What a workflow records: nothing, one row per record run, plus one row per step,
/// plus the input record and each step's data changes.
enum class HistoryLevel { off, runs, steps, full };

/// Parses "off" / "runs" / "steps" / "full"; nullopt otherwise.
STATENET_API std::optional<HistoryLevel> parse_history_level(std::string_view text) noexcept;
STATENET_API std::string_view history_level_name(HistoryLevel level) noexcept;

/// A history database that cannot be opened, read or written.
class STATENET_API HistoryError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

/// One recorded record run.
struct STATENET_API HistoryRun {
    std::int64_t id = 0;   ///< row id in this database (`#12` on the command line)
    std::string run_id;    ///< Result::run_id
    std::string workflow;  ///< the workflow's name, version, file and scripts content hash
    std::string version;
    std::string file;
    std::string scripts_hash;
    std::optional<std::int64_t> position;  ///< input position: stream line, batch index
    bool ok = false;
    std::string final_state;
    std::optional<ErrorInfo> error;
    std::int64_t started_us = 0;  ///< Unix time in microseconds
    std::int64_t duration_ns = 0;
    std::int64_t transitions = 0;
    HistoryLevel level = HistoryLevel::runs;
    std::optional<Value> input;   ///< level full: the record as it came in
    std::optional<Value> output;  ///< level full: the record's data at the end
    TokenUsage usage;             ///< tokens the run's `llm` calls used (every level)
    /// The run's resource calls, one entry per resource it called (every level); a
    /// resource's health is kept only when it was not ok (or its breaker not closed).
    std::vector<ResourceUse> resources;

    Value to_value() const;
};

/// Resource calls as history stores and shows them: `{"NAME": {"type":, "calls":,
/// "errors":, "latency_ms":[, "health":]}}`, the health only when it is not empty.
STATENET_API Value resource_uses_value(const std::vector<ResourceUse>& uses);

/// One step of a run: one state entered (one attempt), and the transition taken out of it.
/// Steps form a tree through `parent`: the step before in the same branch, the pushing
/// step for a sub-network's first step and for the state it returns to, the failed
/// attempt for a retry or an on_error route, the splitting step for breadth-first branches.
struct STATENET_API HistoryStep {
    std::int64_t seq = 0;  ///< 1, 2, ... in the order steps started
    std::optional<std::int64_t> parent;
    std::string via;  ///< how the record got here: start, arc, push, return, retry, on_error
    std::string network;
    std::string state;   ///< the state's name in its network
    std::string arc;     ///< where the record went from here (`network/state`, comma separated for branches)
    std::string reason;  ///< why: the arc condition's second return value, when it gave one
    std::string event;   ///< the machine event that drove the step (empty for records)
    int attempt = 0;     ///< 0 first try, 1.. retries
    int depth = 0;       ///< push depth (0 in the main network)
    std::string status;  ///< ok (left by an arc), end (finished here), failed
    std::int64_t duration_ns = 0;
    std::optional<ErrorInfo> error;
    /// Level full: what the step changed in the record's top level:
    /// `{"set": {field: value}, "unset": [field]}`, or `{"replace": record}` when the
    /// step replaced the whole record (a transform returned a table, direct mode).
    std::optional<Value> changes;

    std::string qualified() const { return network + "/" + state; }
    Value to_value() const;
};

/// Which runs a query selects. Empty / unset fields select everything.
struct HistoryFilter {
    std::optional<bool> ok{};  ///< status: true ok, false failed
    std::string state{};       ///< runs that entered or ended in this state (`net/state` or `state`)
    std::string workflow{};    ///< workflow name
    std::optional<std::int64_t> since_us{}, until_us{};  ///< started in [since, until)
    std::vector<std::string> runs{};                     ///< run ids, unique prefixes or `#rowid`
    std::size_t limit = 0;                               ///< newest N; 0 = no limit
};

struct StateStats {
    std::string state;         ///< `network/state`
    std::int64_t entries = 0;  ///< steps (attempts included)
    std::int64_t failures = 0;
    double p50_us = 0, p95_us = 0;
};

struct ErrorStats {
    std::string name;
    std::int64_t steps = 0;  ///< failed steps with this error (retried and handled ones too)
    std::int64_t runs = 0;   ///< runs that failed with it
};

struct HistoryStats {
    std::int64_t runs = 0, ok = 0, failed = 0;
    std::vector<StateStats> states;  ///< by entries, most first
    std::vector<ErrorStats> errors;  ///< by count, most first
    TokenUsage usage;                ///< summed over the runs
    /// Each resource's calls summed over the runs, by name (health left empty).
    std::vector<ResourceUse> resources;
};

/// What to delete. Every given limit applies.
struct PruneOptions {
    std::optional<std::int64_t> max_runs{};         ///< keep the newest N runs (0: none)
    std::optional<std::int64_t> max_age_seconds{};  ///< delete runs started longer ago
    std::optional<std::int64_t> before_us{};        ///< delete runs started before this time
};

/// A history database opened for queries (the writer of a running workflow may be
/// appending to it at the same time).
class STATENET_API History {
public:
    /// Opens an existing history database; throws HistoryError when it is missing or
    /// not a statenet history.
    explicit History(const std::filesystem::path& db);
    ~History();
    History(History&&) noexcept;
    History& operator=(History&&) noexcept;

    /// Matching runs, oldest first (with a limit: the newest `limit`, oldest first).
    std::vector<HistoryRun> runs(const HistoryFilter& filter = {}) const;
    /// A run by run id, unique run id prefix or `#rowid`; throws HistoryError when
    /// none or several match.
    HistoryRun run(std::string_view id) const;
    /// The run's steps in seq order (empty below level steps).
    std::vector<HistoryStep> steps(const HistoryRun& run) const;
    /// Per state and per error figures over the matching runs.
    HistoryStats stats(const HistoryFilter& filter = {}) const;
    /// Deletes runs (and their steps); returns how many runs went.
    std::int64_t prune(const PruneOptions& options);

    const std::filesystem::path& path() const noexcept;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

/// One replayed run whose outcome differs from the recorded one.
struct ReplayDivergence {
    HistoryRun recorded;
    /// What differs: any of "final_state", "output", "error", and "steps" when the
    /// outcome is the same but the way there is not.
    std::vector<std::string> differences;
    std::string final_state;  ///< the replay's outcome
    std::optional<ErrorInfo> error;
    Value output;
    /// The first step that differs (in network, state, attempt, status, transition,
    /// error or data changes), 1-based position in the step list; 0 when the steps agree.
    std::size_t step_index = 0;
    std::optional<HistoryStep> recorded_step;  ///< absent when the replay took more steps
    std::optional<HistoryStep> replayed_step;  ///< absent when the replay took fewer steps
};

struct ReplayReport {
    std::size_t replayed = 0;
    std::vector<HistoryRun> skipped;  ///< runs recorded below level full (no input kept)
    std::vector<ReplayDivergence> divergences;
};

/// Re-runs the recorded inputs of the runs `filter` selects through `workflow` (nothing
/// is written to its history) and reports every run whose final state, output, error or
/// steps differ, with the first diverging step. Step durations are not compared.
STATENET_API ReplayReport replay(const Workflow& workflow, const History& history, const HistoryFilter& filter = {});

/// "2026-11-24T08:15:02.123Z", "2026-11-24T08:15:02Z", "2026-11-24" (UTC), or an age
/// before `now_us` ("90s", "15m", "12h", "7d"), as Unix microseconds; nullopt otherwise.
STATENET_API std::optional<std::int64_t> parse_history_time(std::string_view text, std::int64_t now_us);
/// "90s", "15m", "12h", "7d", "2w" or plain seconds, as seconds; nullopt otherwise.
STATENET_API std::optional<std::int64_t> parse_history_age(std::string_view text) noexcept;
/// Unix microseconds as "2026-11-24T08:15:02.123Z".
STATENET_API std::string format_history_time(std::int64_t unix_us);
/// The current time as Unix microseconds.
STATENET_API std::int64_t history_now_us() noexcept;

}  // namespace statenet
