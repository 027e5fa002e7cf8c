// statenet command-line interface: subcommand dispatch, error reporting and exit codes.
#include "cli/commands.hpp"
#include "cli/options.hpp"
#include "statenet_config.hpp"

#include <statenet/statenet.hpp>

#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include <cstdio>
#include <exception>
#include <string>
#include <string_view>
#include <vector>

namespace statenet::cli {

namespace {

/// CLI11's message for a bad command line, in statenet's error format, pointing at the
/// help of the subcommand that was being parsed.
std::string usage_failure(const CLI::App* root, const CLI::Error& e) {
    std::string help = root->get_name();
    for (const CLI::App* sub : root->get_subcommands()) help += " " + sub->get_name();
    return "statenet: error: " + std::string(e.what()) + "\nRun '" + help + " --help' for more information.\n";
}

/// What is wrong with the first argument, which must name a command or be a root flag;
/// empty when it is fine. (CLI11 would only say that a subcommand is required.)
std::string first_argument_error(const std::vector<Command>& commands, std::string_view first) {
    for (const auto& command : commands)
        if (command.app->get_name() == first) return {};
    if (first == "-h" || first == "--help" || first == "--version") return {};
    if (first.starts_with('-')) return fmt::format("unknown option '{}'", first);
    return fmt::format("unknown command '{}' (expected run, validate, graph, history, signal, machine, new or version)",
                       first);
}

int dispatch(int argc, char** argv) {
    CLI::App root("statenet runs state networks whose functions are LuaJIT.", "statenet");
    root.failure_message(usage_failure);
    root.footer(
        "Exit status: 0 success, 1 some records failed, 2 usage or workflow error.\n"
        "Guides: " STATENET_DOC_DIR "; the manual: man statenet.");
    root.require_subcommand(1);
    root.set_version_flag("--version", "statenet " + std::string(version()));
    const std::vector<Command> commands = {
        add_run_command(root),    add_validate_command(root), add_graph_command(root), add_history_command(root),
        add_signal_command(root), add_machine_command(root),  add_new_command(root),   add_version_command(root)};
    if (argc <= 1) {
        std::fputs(root.help().c_str(), stderr);
        return exit_usage;
    }
    if (const std::string error = first_argument_error(commands, argv[1]); !error.empty()) {
        print_error(error);
        std::fputs("Run 'statenet --help' for more information.\n", stderr);
        return exit_usage;
    }
    try {
        root.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        // --help exits 0; every other parse error is a usage error (CLI11 would use 105/106).
        return root.exit(e) == 0 ? exit_ok : exit_usage;
    }
    for (const auto& command : commands)
        if (command.app->parsed()) return command.run();
    return exit_usage;
}

}  // namespace

Command add_version_command(CLI::App& root) {
    CLI::App* app = root.add_subcommand("version", "Print the statenet version");
    app->footer("");
    return {app, [] {
                fmt::print("statenet {}\n", version());
                return static_cast<int>(exit_ok);
            }};
}

}  // namespace statenet::cli

int main(int argc, char** argv) {
    using namespace statenet::cli;
    try {
        return dispatch(argc, argv);
    } catch (const statenet::LoadError& e) {
        print_load_error(e);
    } catch (const std::exception& e) {
        print_error(e.what());
    }
    return exit_usage;
}
