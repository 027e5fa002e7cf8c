// `statenet new PATTERN DIR`: a ready-to-edit project from a stdlib pattern's template.
#include "cli/commands.hpp"
#include "cli/options.hpp"
#include "exec/services.hpp"
#include "load/compose.hpp"

#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include <filesystem>
#include <memory>
#include <string>

namespace statenet::cli {

namespace {

namespace fs = std::filesystem;

int new_project(const std::string& pattern, const fs::path& dir) {
    const std::string ref = pattern.starts_with(detail::pattern_prefix) ? pattern : "std:" + pattern;
    const fs::path workflow = detail::pattern_file(ref, detail::find_stdlib({}));
    const fs::path template_dir = workflow.parent_path() / "template";
    std::error_code ec;
    if (!fs::is_directory(template_dir, ec))
        throw usage_error(
            fmt::format("no pattern '{}' with a project template (looked in {})", ref, template_dir.string()));
    if (fs::exists(dir, ec) && !fs::is_empty(dir, ec))
        throw usage_error(fmt::format("'{}' exists and is not empty: give a new directory", dir.string()));
    fs::create_directories(dir);
    fs::copy(template_dir, dir, fs::copy_options::recursive);
    fmt::print("statenet: wrote a {} project in {} (see {}/README.md)\n", ref, dir.string(), dir.string());
    return exit_ok;
}

}  // namespace

Command add_new_command(CLI::App& root) {
    auto pattern = std::make_shared<std::string>();
    auto dir = std::make_shared<std::string>();
    CLI::App* app = root.add_subcommand("new", "Write a ready-to-edit project from a pattern");
    app->footer(
        "Copies the pattern's project template (an instance file, a Lua module, sample data and a\n"
        "README with the command that runs it) into DIR, which must be new or empty.\n"
        "Exit status: 0 success, 2 usage error.");
    app->add_option("PATTERN", *pattern, "A stdlib pattern: etl or std:etl")->required()->type_name("");
    app->add_option("DIR", *dir, "The project directory to write")->required()->type_name("");
    return {app, [pattern, dir] { return new_project(*pattern, *dir); }};
}

}  // namespace statenet::cli
