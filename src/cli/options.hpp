// Shared pieces of the statenet subcommands: exit codes, usage errors, --set and --mode.
#pragma once

#include <statenet/engine.hpp>

#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace CLI {
class App;
}

namespace statenet::cli {

/// The process exit codes every subcommand shares.
enum exit_code : int {
    exit_ok = 0,
    exit_records_failed = 1,
    exit_usage = 2,  ///< bad arguments, unreadable files or a workflow that does not load
};

/// A problem with the command line or its files; main prints it as
/// `statenet: error: <what>` and exits with exit_usage.
class usage_error : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

/// Splits `key=value` (from --set); the value is JSON when it parses as JSON, else the
/// plain string. Throws usage_error when there is no '=' or the key is empty.
std::pair<std::string, Value> parse_set(std::string_view text);

/// --mode text to a data mode; throws usage_error for modes this build cannot run.
DataMode parse_mode(std::string_view text);

/// LoadOptions from repeated --set arguments and an optional --mode.
LoadOptions load_options(const std::vector<std::string>& sets, const std::optional<std::string>& mode);

/// A composed workflow's choices (docs/workflow-format.md#composition): `--param
/// NAME=VALUE` (repeatable; VALUE is read as the param's declared type) and `--profile NAME`.
struct ComposeArgs {
    std::vector<std::string> params;
    std::string profile;  // empty: not given
    /// Adds them to `options`; throws usage_error for a --param without '='.
    void apply(LoadOptions& options) const;
};
void add_compose_options(CLI::App* app, ComposeArgs& args);

/// The Lua sandbox's options (docs/security.md): --sandbox default|strict (strict refuses
/// workflows that list `trust`), --call-limit-ms and --memory-limit-mb.
struct SandboxArgs {
    std::string mode = "default";
    double call_limit_ms = EngineOptions{}.call_limit_ms;
    double memory_limit_mb = EngineOptions{}.memory_limit_mb;
    EngineOptions engine_options() const;
};
void add_sandbox_options(CLI::App* app, SandboxArgs& args);

/// `statenet: error: <message>` on stderr.
void print_error(std::string_view message);

/// Every diagnostic of a failed load, one `statenet: error: file:line:col: message` line each.
void print_load_error(const LoadError& error);

/// How a hot reload of `workflow` went (`--watch`): one line on stderr, or the errors
/// that kept the previous version running, and the instances it orphaned.
void print_reload(const ReloadReport& report, const std::string& workflow);

}  // namespace statenet::cli
