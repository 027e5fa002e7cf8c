// statenet::Engine: loads workflows and owns the runtime services they share.
#pragma once

#include <statenet/error.hpp>
#include <statenet/export.hpp>
#include <statenet/history.hpp>
#include <statenet/item_reader.hpp>
#include <statenet/value.hpp>
#include <statenet/workflow.hpp>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace statenet {

namespace detail {
struct EngineImpl;
}

/// Time source used for retry back-off and record timeouts. Replace it in tests to
/// control time without sleeping.
class STATENET_API Clock {
public:
    virtual ~Clock();
    /// Milliseconds on a monotonic clock.
    virtual double now_ms() = 0;
    virtual void sleep_ms(double ms) = 0;
};

/// The real steady clock.
STATENET_API std::shared_ptr<Clock> system_clock();

enum class LogLevel { debug, info, warn, error };

/// One `ctx.log.<level>(message, fields)` call from Lua.
struct LogRecord {
    LogLevel level;
    std::string_view state;  ///< `network/state`; empty for the engine's own messages
    std::string_view message;
    const Value& fields;
};

struct EngineOptions {
    /// Extra directories searched for Lua modules after the workflow's own
    /// (before the stdlib).
    std::vector<std::filesystem::path> module_paths{};
    /// The stdlib directory; empty = $STATENET_STDLIB, else the installed or built-in one.
    std::filesystem::path stdlib_dir{};
    /// Time source (default: system_clock()).
    std::shared_ptr<Clock> clock{};
    /// Receives ctx.log calls; default: one line per call on stderr.
    std::function<void(const LogRecord&)> log{};
    /// Seed for retry jitter.
    std::uint64_t seed = 0x5eed;
    /// Refuse workflows that opt out of the Lua sandbox with `trust`, or that raise the
    /// limits below above the host's (docs/security.md). The CLI's `--sandbox strict`.
    bool strict_sandbox = false;
    /// How long one Lua call (a state's functions for one record, or loading a
    /// workflow) may run before it fails with Timeout, unless the workflow sets
    /// `[limits] call_ms`; a record's `timeout_ms` also bounds its calls. 0 = no limit.
    double call_limit_ms = 10000;
    /// Memory each Lua VM may hold while workflow code runs, unless the workflow sets
    /// `[limits] memory_mb`; beyond it the call fails with OutOfMemory. 0 = no cap.
    double memory_limit_mb = 1024;
};

/// Per-load options.
struct LoadOptions {
    /// Overrides `[vars]` entries (the CLI's --set key=value).
    std::map<std::string, Value> vars{};
    /// Values of the workflow's `[params.NAME]` (the CLI's --param name=value); they win
    /// over an instance file's `[params]` and the defaults. A string given for an int,
    /// float, bool, array or table param is read as that type. Unknown names, missing
    /// required params and wrong types are load errors (docs/workflow-format.md).
    std::map<std::string, Value> params{};
    /// The `[profiles.NAME]` overlay to apply (the CLI's --profile). Unset: the
    /// STATENET_PROFILE environment variable, if set. An unknown profile is a load error.
    std::optional<std::string> profile{};
    /// Overrides the workflow's data_mode.
    std::optional<DataMode> data_mode{};
    /// Overrides `[history] db` (relative to the working directory). Given alone, it
    /// also turns history on at level steps when the workflow's level is off.
    std::optional<std::filesystem::path> history_db{};
    /// Overrides `[history] level`.
    std::optional<HistoryLevel> history_level{};
    /// Where records waiting for a signal (`wait` states) park when history is off
    /// (with history on they park in the history database). A workflow with `wait`
    /// states and neither does not load. The CLI's `run --park DB`.
    std::optional<std::filesystem::path> park_db{};
};

/// Result of a hot reload.
struct ReloadReport {
    /// True when the new version is running; false when it failed to load (the old
    /// version keeps running and `errors` says why).
    bool ok = true;
    std::vector<Diagnostic> errors;
    /// Instances whose state no longer exists in the new version (kept, not changed).
    std::vector<std::string> orphaned;
};

/// Owns the runtime shared by the workflows it loads. Workflows keep the engine's
/// services alive, so a Workflow may outlive its Engine.
class STATENET_API Engine {
public:
    explicit Engine(EngineOptions options = {});
    ~Engine();
    Engine(const Engine&) = delete;
    Engine& operator=(const Engine&) = delete;

    /// Loads a `.toml` or `.lua` workflow. Throws LoadError with every problem found.
    Workflow load(const std::filesystem::path& file, const LoadOptions& options = {});
    /// Loads a workflow given as text; `name` is used for file names in diagnostics and
    /// its extension picks the format; modules are searched relative to `name`'s directory.
    /// Such a workflow has no file to reload: reload() leaves it as it is.
    Workflow load_string(std::string_view text, const std::filesystem::path& name, const LoadOptions& options = {});
    /// Checks a workflow file; returns every problem found (empty when it loads).
    std::vector<Diagnostic> check(const std::filesystem::path& file, const LoadOptions& options = {});
    /// Hot reload: every Workflow loaded from a file by load() reads it again (with the
    /// same LoadOptions) and switches to the new model and Lua logic between records;
    /// records running meanwhile finish on the old version, streams keep the version
    /// they started with. Every Machines opened on this engine does the same between
    /// events (see Machines::reload). A version that fails to load is reported (ok =
    /// false, with its diagnostics) and the old one keeps running. Workflows made by
    /// load_string are not reloaded.
    ReloadReport reload();

    /// Registers an item reader for map states: `reader = { type = "<type>", ... }`.
    /// Register before loading the workflows that use it (loading checks the type).
    /// Built-in types (jsonl, csv, json, sqlite, postgres, glob) cannot be replaced:
    /// throws std::invalid_argument. Thread-safe.
    void add_item_reader(std::string type, ItemReaderFactory factory);
    /// Resumes the record parked under `run_id` (or a unique prefix of it) in the park
    /// or history database `db`: claims it (exactly once, whatever other processes
    /// signal at the same time), loads its workflow from the file it was parked by
    /// (with the vars, data mode and history level it ran with), and runs it on from
    /// its waiting state with `payload` as ctx.signal. Its outcome is recorded in the
    /// history like any run's; Result::parked when it reaches another wait state.
    /// Throws SignalError (nothing changed) when no record waits under `run_id`, it
    /// waits for another signal, or it was already resumed; LoadError when its
    /// workflow no longer loads or lost the waiting state (the record keeps waiting).
    Result signal(const std::filesystem::path& db, std::string_view run_id, std::string_view signal,
                  const Value& payload = Value::object());
    /// Resumes every record in `db` whose `timeout_ms` passed by `now_us` (Unix µs,
    /// default: now): each fails in its waiting state with SignalTimeout, where the
    /// state's retry and on_error apply. Returns their results, soonest deadline first.
    std::vector<Result> expire_signals(const std::filesystem::path& db,
                                       std::optional<std::int64_t> now_us = std::nullopt);

private:
    std::shared_ptr<detail::EngineImpl> impl_;
};

/// The library version, "major.minor.patch".
STATENET_API std::string_view version() noexcept;

}  // namespace statenet
