// `statenet run`: one record (--data) or a JSONL stream (-i/-o) through a workflow.
#include "cli/commands.hpp"
#include "cli/line_io.hpp"
#include "cli/options.hpp"
#include "cli/stream_run.hpp"

#include <statenet/statenet.hpp>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace statenet::cli {

namespace {

struct RunArgs {
    std::string workflow;
    std::string data;
    std::string input = "-";
    std::string output = "-";
    std::string mode;
    std::vector<std::string> sets;
    std::string errors;
    std::size_t workers = 1;
    bool quiet = false;
    CLI::Option* data_option = nullptr;
    CLI::Option* mode_option = nullptr;
};

Value parse_data(const std::string& text) {
    Value record;
    try {
        record = Value::from_json(text);
    } catch (const JsonError& e) {
        throw usage_error(fmt::format("--data: {}", e.what()));
    }
    if (!record.is_object() && !record.is_array())
        throw usage_error(fmt::format("--data must be a JSON object (got {})", type_name(record.type())));
    return record;
}

int run_one_record(const Workflow& workflow, const RunArgs& args) {
    const Value record = parse_data(args.data);
    BufferedWriter output(args.output);
    const Result result = workflow.process(record);
    output.write_line(result.to_value().to_json(2));
    output.close();
    return result.ok ? exit_ok : exit_records_failed;
}

int run_records_stream(const Workflow& workflow, const RunArgs& args) {
    StreamOptions options;
    options.input = args.input;
    options.output = args.output;
    options.errors = args.errors;
    options.workers = args.workers;
    const StreamCounts counts = run_stream(workflow, options);
    if (!args.quiet) print_summary(counts);
    return counts.failed == 0 ? exit_ok : exit_records_failed;
}

int run(const RunArgs& args) {
    const auto mode = args.mode_option->count() ? std::optional(args.mode) : std::nullopt;
    const LoadOptions options = load_options(args.sets, mode);
    Engine engine;
    const Workflow workflow = engine.load(args.workflow, options);
    const int code = args.data_option->count() ? run_one_record(workflow, args) : run_records_stream(workflow, args);
    workflow.flush();  // commits what a batch transaction still holds
    return code;
}

}  // namespace

Command add_run_command(CLI::App& root) {
    auto args = std::make_shared<RunArgs>();
    CLI::App* app = root.add_subcommand("run", "Run records through a workflow");
    app->footer(
        "Without --data, reads one JSON object per line from IN and writes each emitted record's data\n"
        "as one JSON line to OUT, in input order. Exit status: 0 all records ok, 1 some failed, 2 usage\n"
        "or workflow error.");
    app->add_option("WORKFLOW", args->workflow, "Workflow file (.toml or .lua)")->required()->type_name("");
    args->data_option = app->add_option("--data", args->data, "Process this one JSON record and print its result")
                            ->type_name("JSON");
    auto* input = app->add_option("-i,--input", args->input, "JSONL input file, - for stdin (default)")->type_name("IN");
    app->add_option("-o,--output", args->output, "Output file, - for stdout (default)")->type_name("OUT");
    args->mode_option = app->add_option("--mode", args->mode, "Override the workflow's data mode")
                            ->type_name("MODE")
                            ->check(CLI::IsMember({"copy", "reference", "direct"}));
    app->add_option("--set", args->sets, "Override a workflow var; VALUE is JSON if it parses, else a string")
        ->type_name("KEY=VALUE")
        ->allow_extra_args(false);
    auto* errors = app->add_option("--errors", args->errors, "Write failed records as JSONL to FILE (default: stderr lines)")
                       ->type_name("FILE");
    auto* workers = app->add_option("-j,--workers", args->workers,
                                    "Threads running records (default 1, 0 = one per hardware thread); output keeps input order")
                        ->type_name("N");
    app->add_flag("-q,--quiet", args->quiet, "No summary on stderr");
    args->data_option->excludes(input)->excludes(errors)->excludes(workers);
    return {app, [args] { return run(*args); }};
}

}  // namespace statenet::cli
