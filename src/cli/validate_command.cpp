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

/// GNU style, as compilers write them and editors match them: `file:line:col: error: message`.
std::string gnu_line(Diagnostic d) {
    d.message = "error: " + d.message;
    return d.str();
}

Value json_of(const std::string& file, const std::vector<Diagnostic>& diagnostics) {
    Value::Array problems;
    for (const auto& d : diagnostics)
        problems.push_back(Value::object({{"file", Value(d.file)},
                                          {"line", Value(static_cast<std::int64_t>(d.line))},
                                          {"column", Value(static_cast<std::int64_t>(d.column))},
                                          {"severity", Value("error")},
                                          {"message", Value(d.message)}}));
    return Value::object(
        {{"file", Value(file)}, {"ok", Value(diagnostics.empty())}, {"diagnostics", Value(std::move(problems))}});
}

int validate(const std::vector<std::string>& files, const std::string& format, const SandboxArgs& sandbox,
             const ComposeArgs& compose) {
    Engine engine(sandbox.engine_options());
    LoadOptions options;
    compose.apply(options);
    bool all_ok = true;
    Value::Array report;
    for (const auto& file : files) {
        const auto diagnostics = engine.check(file, options);
        all_ok = all_ok && diagnostics.empty();
        if (format == "json") {
            report.push_back(json_of(file, diagnostics));
            continue;
        }
        if (diagnostics.empty()) {
            fmt::print(stdout, "{}: ok\n", file);
            continue;
        }
        std::fflush(stdout);
        for (const auto& diagnostic : diagnostics) fmt::print(stderr, "{}\n", gnu_line(diagnostic));
    }
    if (format == "json") fmt::print("{}\n", Value(std::move(report)).to_json(2));
    return all_ok ? exit_ok : exit_usage;
}

}  // namespace

Command add_validate_command(CLI::App& root) {
    auto files = std::make_shared<std::vector<std::string>>();
    auto format = std::make_shared<std::string>("text");
    auto sandbox = std::make_shared<SandboxArgs>();
    auto compose = std::make_shared<ComposeArgs>();
    CLI::App* app = root.add_subcommand("validate", "Check workflow files and report every problem");
    app->footer(
        "text: prints `file: ok`, or each problem as `file:line:col: error: message` on stderr.\n"
        "json: prints [{\"file\", \"ok\", \"diagnostics\": [{\"file\", \"line\", \"column\", \"severity\",\n"
        "\"message\"}]}] on stdout (line and column 0 when unknown).\n"
        "Exit status: 0 when every file loads, 2 otherwise.");
    app->add_option("WORKFLOW", *files, "Workflow files (.toml or .lua)")->required()->type_name("");
    app->add_option("--format", *format, "Output: text (default) or json")
        ->check(CLI::IsMember({"text", "json"}))
        ->type_name("FORMAT");
    add_sandbox_options(app, *sandbox);
    add_compose_options(app, *compose);
    return {app, [files, format, sandbox, compose] { return validate(*files, *format, *sandbox, *compose); }};
}

}  // namespace statenet::cli
