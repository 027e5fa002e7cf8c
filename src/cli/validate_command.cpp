// `statenet validate`: loads workflow files and reports every problem as file:line:col.
#include "cli/commands.hpp"
#include "cli/options.hpp"

#include <statenet/statenet.hpp>

#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include <cstdio>
#include <memory>
#include <string>
#include <vector>

namespace statenet::cli {

namespace {

int validate(const std::vector<std::string>& files, const SandboxArgs& sandbox) {
    Engine engine(sandbox.engine_options());
    bool all_ok = true;
    for (const auto& file : files) {
        const auto diagnostics = engine.check(file);
        if (diagnostics.empty()) {
            fmt::print(stdout, "{}: ok\n", file);
            continue;
        }
        all_ok = false;
        std::fflush(stdout);
        for (const auto& diagnostic : diagnostics) fmt::print(stderr, "{}\n", diagnostic.str());
    }
    return all_ok ? exit_ok : exit_usage;
}

}  // namespace

Command add_validate_command(CLI::App& root) {
    auto files = std::make_shared<std::vector<std::string>>();
    auto sandbox = std::make_shared<SandboxArgs>();
    CLI::App* app = root.add_subcommand("validate", "Check workflow files and report every problem");
    app->footer(
        "Prints `file: ok`, or each problem as `file:line:col: message` on stderr.\n"
        "Exit status: 0 when every file loads, 2 otherwise.");
    app->add_option("WORKFLOW", *files, "Workflow files (.toml or .lua)")->required()->type_name("");
    add_sandbox_options(app, *sandbox);
    return {app, [files, sandbox] { return validate(*files, *sandbox); }};
}

}  // namespace statenet::cli
