// Shared pieces of the statenet subcommands: --set and --mode parsing, error output.
#include "cli/options.hpp"

#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include <cstdio>

namespace statenet::cli {

std::pair<std::string, Value> parse_set(std::string_view text) {
    const auto eq = text.find('=');
    if (eq == std::string_view::npos) throw usage_error(fmt::format("--set '{}': expected key=value", text));
    std::string key(text.substr(0, eq));
    if (key.empty()) throw usage_error(fmt::format("--set '{}': the key is empty", text));
    const std::string_view raw = text.substr(eq + 1);
    try {
        return {std::move(key), Value::from_json(raw)};
    } catch (const JsonError&) {
        // Not JSON: a bare word such as `--set region=eu` means the string.
        return {std::move(key), Value(raw)};
    }
}

DataMode parse_mode(std::string_view text) {
    const auto mode = parse_data_mode(text);
    if (!mode) throw usage_error(fmt::format("--mode '{}': expected copy, reference or direct", text));
    return *mode;
}

LoadOptions load_options(const std::vector<std::string>& sets, const std::optional<std::string>& mode) {
    LoadOptions options;
    for (const auto& set : sets) {
        auto [key, value] = parse_set(set);
        options.vars.insert_or_assign(std::move(key), std::move(value));
    }
    if (mode) options.data_mode = parse_mode(*mode);
    return options;
}

void ComposeArgs::apply(LoadOptions& options) const {
    for (const auto& param : params) {
        const auto eq = param.find('=');
        if (eq == std::string::npos || eq == 0)
            throw usage_error(fmt::format("--param '{}': expected NAME=VALUE", param));
        // The text as given: the load reads it as the param's declared type.
        options.params.insert_or_assign(param.substr(0, eq), Value(param.substr(eq + 1)));
    }
    if (!profile.empty()) options.profile = profile;
}

void add_compose_options(CLI::App* app, ComposeArgs& args) {
    app->add_option("--param", args.params,
                    "Give a workflow param (its [params.NAME]) a value, read as the param's type")
        ->type_name("NAME=VALUE")
        ->allow_extra_args(false);
    app->add_option("--profile", args.profile, "Apply the workflow's [profiles.NAME] (default: $STATENET_PROFILE)")
        ->type_name("NAME");
}

EngineOptions SandboxArgs::engine_options() const {
    EngineOptions options;
    options.strict_sandbox = mode == "strict";
    options.call_limit_ms = call_limit_ms;
    options.memory_limit_mb = memory_limit_mb;
    return options;
}

void add_sandbox_options(CLI::App* app, SandboxArgs& args) {
    app->add_option("--sandbox", args.mode,
                    "Lua sandbox: default (a workflow may opt out with `trust`) or strict (it may not)")
        ->type_name("MODE")
        ->check(CLI::IsMember({"default", "strict"}));
    app->add_option("--call-limit-ms", args.call_limit_ms,
                    "Time one Lua call may take, unless the workflow sets limits.call_ms (default 10000, 0 = none)")
        ->type_name("MS")
        ->check(CLI::NonNegativeNumber);
    app->add_option("--memory-limit-mb", args.memory_limit_mb,
                    "Memory each Lua VM may hold, unless the workflow sets limits.memory_mb (default 1024, 0 = none)")
        ->type_name("MB")
        ->check(CLI::NonNegativeNumber);
}

void print_error(std::string_view message) {
    const std::string line = fmt::format("statenet: error: {}\n", message);
    std::fwrite(line.data(), 1, line.size(), stderr);
}

void print_load_error(const LoadError& error) {
    for (const auto& diagnostic : error.diagnostics()) print_error(diagnostic.str());
}

void print_reload(const ReloadReport& report, const std::string& workflow) {
    if (!report.ok) {
        print_error(fmt::format("reloading {} failed; the previous version keeps running:", workflow));
        for (const auto& d : report.errors) print_error(d.str());
        return;
    }
    std::fputs(fmt::format("statenet: reloaded {}\n", workflow).c_str(), stderr);
    for (const auto& id : report.orphaned)
        print_error(fmt::format("instance '{}': its state no longer exists in the reloaded workflow", id));
}

}  // namespace statenet::cli
