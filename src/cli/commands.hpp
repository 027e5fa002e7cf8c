// The statenet subcommands: each registers its options on the root app and returns how to run it.
#pragma once

#include <functional>

namespace CLI {
class App;
}

namespace statenet::cli {

/// A subcommand registered on the root app. `run` executes it after a successful parse
/// and returns the process exit code; it may throw usage_error, LoadError or
/// std::runtime_error, which main reports.
struct Command {
    CLI::App* app;
    std::function<int()> run;
};

Command add_run_command(CLI::App& root);
Command add_validate_command(CLI::App& root);
Command add_graph_command(CLI::App& root);
Command add_machine_command(CLI::App& root);
/// `machine serve`, registered by add_machine_command on the `machine` app.
Command add_machine_serve_command(CLI::App& machine);
Command add_history_command(CLI::App& root);
Command add_signal_command(CLI::App& root);
Command add_version_command(CLI::App& root);
Command add_new_command(CLI::App& root);

}  // namespace statenet::cli
