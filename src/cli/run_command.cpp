// `statenet run`: one record (--data) or a stream of records (-i/-o) through a workflow.
#include "cli/commands.hpp"
#include "cli/options.hpp"
#include "cli/progress_bar.hpp"
#include "io/byte_output.hpp"

#include <statenet/statenet.hpp>
#include <statenet/strategy_stats.hpp>

#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include <cstdio>
#include <memory>
#include <mutex>
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
    std::string format;
    std::string input_format;
    std::string output_format;
    std::string text_field = "line";
    std::string csv_delimiter = ",";
    std::string xml_element;
    std::string query;
    std::string table;
    std::string key;
    std::string mode;
    std::vector<std::string> sets;
    std::string errors;
    unsigned workers = 1;
    unsigned in_flight = 0;
    bool unordered = false;
    bool resume = false;
    std::string checkpoint;
    std::size_t batch_size = 0;
    std::string history_db;
    std::string history_level;
    std::string park_db;
    bool quiet = false;
    SandboxArgs sandbox;
    ComposeArgs compose;
    CLI::Option* data_option = nullptr;
    CLI::Option* mode_option = nullptr;
    CLI::Option* history_option = nullptr;
    CLI::Option* history_level_option = nullptr;
    CLI::Option* park_option = nullptr;
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
    auto output = detail::open_output(args.output);
    RunOptions run;
    run.resume = args.resume;  // map states with a sink continue from their checkpoint
    const Result result = workflow.process(record, run);
    output->write_line(result.to_value().to_json(2));
    output->close();
    return result.ok || result.parked ? exit_ok : exit_records_failed;
}

std::optional<RecordFormat> chosen_format(const std::string& specific, const std::string& both) {
    const std::string& text = specific.empty() ? both : specific;
    if (text.empty()) return std::nullopt;
    return parse_record_format(text);
}

// "postgres:CONNINFO" names a PostgreSQL database where a SQLite file could stand.
constexpr std::string_view postgres_prefix = "postgres:";

/// `--csv-delimiter`: one character; `\t` or `tab` for tab-separated files.
char csv_delimiter(const RunArgs& args) {
    const std::string& d = args.csv_delimiter;
    if (d == "\\t" || d == "tab") return '\t';
    if (d.size() != 1 || d == "\"" || d == "\n" || d == "\r")
        throw usage_error(
            fmt::format("--csv-delimiter must be one character other than a quote or a line break "
                        "(or tab), not '{}'",
                        d));
    return d[0];
}

Source make_source(const RunArgs& args) {
    if (args.input.starts_with(postgres_prefix)) {
        if (args.query.empty()) throw usage_error("-i postgres:... needs --query (the rows to read)");
        return postgres_source(args.input.substr(postgres_prefix.size()), args.query);
    }
    if (!args.query.empty()) return sqlite_source(args.input, args.query);
    const bool detect = args.input_format == "auto";
    Source source = file_source(args.input, detect ? std::nullopt : chosen_format(args.input_format, args.format));
    source.detect = detect;
    source.xml_element = args.xml_element;
    source.text_field = args.text_field;
    source.csv_delimiter = csv_delimiter(args);
    return source;
}

Sink make_sink(const RunArgs& args) {
    if (args.output.starts_with(postgres_prefix)) {
        if (args.table.empty()) throw usage_error("-o postgres:... needs --table (the table to write)");
        return postgres_sink(args.output.substr(postgres_prefix.size()), args.table, args.key);
    }
    if (!args.table.empty()) return sqlite_sink(args.output, args.table, args.key);
    if (!args.key.empty()) throw usage_error("--key needs --table (it names the SQLite table's key column)");
    Sink sink = file_sink(args.output, chosen_format(args.output_format, args.format));
    sink.text_field = args.text_field;
    sink.csv_delimiter = csv_delimiter(args);
    return sink;
}

void print_summary(const StreamStats& stats) {
    std::string text = fmt::format(
        "statenet: {} records: {} emitted, {} excluded, {} failed{} in {:.2f}s ({:.0f} "
        "records/s)\n",
        stats.total, stats.emitted, stats.excluded, stats.failed,
        stats.parked ? fmt::format(", {} parked", stats.parked) : std::string(), stats.duration.count(),
        stats.records_per_second());
    // The parked ones wait for a signal: their run ids are what `statenet signal` takes.
    constexpr std::size_t shown = 20;
    if (!stats.parked_runs.empty()) {
        text += "statenet: parked, waiting for a signal:";
        for (std::size_t i = 0; i < stats.parked_runs.size() && i < shown; ++i) text += " " + stats.parked_runs[i];
        if (stats.parked > shown)
            text += fmt::format(" (and {} more: statenet history list --parked)", stats.parked - shown);
        text += '\n';
    }
    if (stats.resumed > 0)
        text += fmt::format("statenet: resumed after {} records committed by an earlier run\n", stats.resumed);
    std::fwrite(text.data(), 1, text.size(), stderr);
}

// One line per resource the run called (and every network one): what it did for the
// run, its health (a network resource's breaker), its tokens.
void print_resource_stats(const std::vector<ResourceStats>& resources) {
    std::string text;
    for (const auto& r : resources) {
        const bool network = r.type == "http" || r.type == "llm";
        if (!network && r.calls == 0 && r.health == "ok") continue;
        const double average = r.calls > 0 ? r.latency_ms_sum / static_cast<double>(r.calls) : 0.0;
        text += fmt::format("statenet: resource {} ({}): {} calls, {} errors", r.name, r.type, r.calls, r.errors);
        if (network) text += fmt::format(", {} retries", r.retries);
        text += fmt::format(", latency avg {:.1f} ms max {:.1f} ms, {} {}", average, r.latency_ms_max,
                            network ? "breaker" : "health", r.health);
        if (!r.tokens.empty())
            text +=
                fmt::format(", tokens {} prompt + {} completion", r.tokens.prompt_tokens, r.tokens.completion_tokens);
        text += '\n';
    }
    std::fwrite(text.data(), 1, text.size(), stderr);
}

// One line per state and strategy: "statenet: recovery main/charge circuit_breaker:
// opened 1, refused 3 (open)".
void print_strategy_stats(const std::vector<StrategyStats>& strategies) {
    std::string text;
    for (const auto& st : strategies) {
        text += fmt::format("statenet: recovery {} {}:", st.state, st.strategy);
        for (std::size_t i = 0; i < st.counts.size(); ++i)
            text += fmt::format("{} {} {}", i ? "," : "", st.counts[i].first, st.counts[i].second);
        if (!st.status.empty()) text += fmt::format(" ({})", st.status);
        text += '\n';
    }
    std::fwrite(text.data(), 1, text.size(), stderr);
}

int run_records_stream(const Workflow& workflow, const RunArgs& args) {
    StreamOptions options;
    options.workers = args.workers;
    options.in_flight = args.in_flight;
    options.ordered = !args.unordered;
    options.errors = args.errors;
    options.resume = args.resume;
    options.run.resume = args.resume;
    options.checkpoint = args.checkpoint;
    options.batch_size = args.batch_size;
    // One lock for the stderr lines of failures and the progress line, which come from two threads.
    std::mutex stderr_mutex;
    ProgressBar bar;
    if (args.errors.empty()) {
        options.on_failure = [&](std::uint64_t line, const ErrorInfo& error) {
            std::lock_guard lock(stderr_mutex);
            bar.clear();
            const std::string text =
                fmt::format("statenet: record {} failed: {}: {}\n", line, error.name, error.message);
            std::fwrite(text.data(), 1, text.size(), stderr);
        };
    }
    if (!args.quiet && stderr_is_terminal()) {
        options.on_progress = [&](const StreamProgress& progress) {
            std::lock_guard lock(stderr_mutex);
            bar.update(progress);
        };
    }
    StreamStats stats;
    try {
        stats = workflow.process_stream(make_source(args), make_sink(args), options);
    } catch (...) {
        bar.clear();
        throw;
    }
    bar.clear();
    if (!args.quiet) {
        print_summary(stats);
        print_resource_stats(workflow.resource_stats());
        print_strategy_stats(strategy_stats(workflow));
    }
    return stats.failed == 0 ? exit_ok : exit_records_failed;
}

int run(const RunArgs& args) {
    const auto mode = args.mode_option->count() ? std::optional(args.mode) : std::nullopt;
    LoadOptions options = load_options(args.sets, mode);
    args.compose.apply(options);
    if (args.history_option->count()) options.history_db = args.history_db;
    if (args.history_level_option->count()) options.history_level = parse_history_level(args.history_level);
    if (args.park_option->count()) options.park_db = args.park_db;
    Engine engine(args.sandbox.engine_options());
    const Workflow workflow = engine.load(args.workflow, options);
    const int code = args.data_option->count() ? run_one_record(workflow, args) : run_records_stream(workflow, args);
    workflow.flush();  // commits what a batch transaction still holds
    workflow.flush_history();
    return code;
}

}  // namespace

Command add_run_command(CLI::App& root) {
    auto args = std::make_shared<RunArgs>();
    CLI::App* app = root.add_subcommand("run", "Run records through a workflow");
    app->footer(
        "Without --data, reads records from IN and writes each emitted record's data to OUT, in input\n"
        "order. Formats follow the extensions (.jsonl .ndjson .json .csv .txt, plus .gz or .zst for\n"
        "compression); stdin/stdout and unknown extensions are JSONL. With --query, IN is a SQLite\n"
        "database; with --table, OUT is one. IN or OUT 'postgres:CONNINFO' is a PostgreSQL database\n"
        "(e.g. 'postgres:host=/run/postgresql dbname=app'). A progress line shows on stderr when it\n"
        "is a terminal.\n"
        "Exit status: 0 all records ok, 1 some failed, 2 usage, workflow or I/O error.");
    app->add_option("WORKFLOW", args->workflow, "Workflow file (.toml or .lua), or a pattern: std:NAME")
        ->required()
        ->type_name("");
    add_compose_options(app, args->compose);
    args->data_option =
        app->add_option("--data", args->data, "Process this one JSON record and print its result")->type_name("JSON");
    auto* input = app->add_option("-i,--input", args->input, "Input file, - for stdin (default)")->type_name("IN");
    app->add_option("-o,--output", args->output, "Output file, - for stdout (default)")->type_name("OUT");
    const auto formats = CLI::IsMember({"jsonl", "ndjson", "json", "csv", "text", "xml"});
    auto* format = app->add_option("--format", args->format, "Format of input and output, whatever their extensions")
                       ->type_name("FORMAT")
                       ->check(formats);
    auto* input_format = app->add_option("--input-format", args->input_format,
                                         "Format of the input; auto: from its first bytes, whatever its extension")
                             ->type_name("FORMAT")
                             ->check(CLI::IsMember({"jsonl", "ndjson", "json", "csv", "text", "xml", "auto"}));
    app->add_option("--xml-element", args->xml_element,
                    "XML input: the repeating element that is a record (a name or a path a/b); default: the "
                    "root's children")
        ->type_name("NAME");
    auto* output_format = app->add_option("--output-format", args->output_format, "Format of the output")
                              ->type_name("FORMAT")
                              ->check(formats);
    auto* text_field =
        app->add_option("--text-field", args->text_field, "Text format: the field that holds each line (default: line)")
            ->type_name("NAME");
    auto* csv_delimiter = app->add_option("--csv-delimiter", args->csv_delimiter,
                                          "CSV input and output: the field separator (default ,; e.g. ';', or tab)")
                              ->type_name("CHAR");
    auto* query = app->add_option("--query", args->query,
                                  "Read the rows of this SQL query from the database IN (SQLite or postgres:...)")
                      ->type_name("SQL");
    auto* table = app->add_option("--table", args->table,
                                  "Write records as rows of this table of the database OUT (SQLite or postgres:...)")
                      ->type_name("TABLE");
    auto* key = app->add_option("--key", args->key, "With --table: upsert by this column instead of inserting")
                    ->type_name("COLUMN");
    args->mode_option = app->add_option("--mode", args->mode, "Override the workflow's data mode")
                            ->type_name("MODE")
                            ->check(CLI::IsMember({"copy", "reference", "direct"}));
    app->add_option("--set", args->sets, "Override a workflow var; VALUE is JSON if it parses, else a string")
        ->type_name("KEY=VALUE")
        ->allow_extra_args(false);
    auto* errors =
        app->add_option("--errors", args->errors, "Write failed records as JSONL to FILE (default: stderr lines)")
            ->type_name("FILE");
    auto* workers =
        app->add_option("-j,--workers", args->workers,
                        "Threads running records (default 1, 0 = one per hardware thread); output keeps input order")
            ->type_name("N");
    auto* in_flight = app->add_option("--in-flight", args->in_flight,
                                      "Records each worker keeps in progress while they wait on network resources "
                                      "(default: the workflow's in_flight, else 64)")
                          ->type_name("N")
                          ->check(CLI::Range(1u, 4096u));
    args->history_option =
        app->add_option("--history", args->history_db,
                        "Record execution history in the SQLite database DB (level: the workflow's, else steps)")
            ->type_name("DB");
    args->history_level_option = app->add_option("--history-level", args->history_level,
                                                 "History level: off, runs, steps or full (overrides [history] level)")
                                     ->type_name("LEVEL")
                                     ->check(CLI::IsMember({"off", "runs", "steps", "full"}));
    args->park_option =
        app->add_option("--park", args->park_db,
                        "Park records that reach a wait state in the SQLite database DB (default: the history "
                        "database; needed when history is off)")
            ->type_name("DB");
    auto* unordered =
        app->add_flag("--unordered", args->unordered, "Write records as they finish instead of in input order");
    auto* resume =
        app->add_flag("--resume", args->resume,
                      "Keep checkpoints, and continue an interrupted run after its last one (needs -o FILE or --table; "
                      "with --data: the record's map states with a sink)");
    auto* checkpoint =
        app->add_option("--checkpoint", args->checkpoint, "Checkpoint file of a file output (default: OUT.checkpoint)")
            ->type_name("FILE");
    auto* batch = app->add_option("--batch-size", args->batch_size,
                                  "Records per database output transaction and per checkpoint (default: the workflow's "
                                  "[transaction] batch_size, else 1000)")
                      ->type_name("N")
                      ->check(CLI::PositiveNumber);
    app->add_flag("-q,--quiet", args->quiet, "No progress line and no summary on stderr");
    add_sandbox_options(app, args->sandbox);
    for (CLI::Option* stream_only : {input, errors, workers, in_flight, format, input_format, output_format, text_field,
                                     csv_delimiter, query, table, key, unordered, checkpoint, batch})
        args->data_option->excludes(stream_only);
    unordered->excludes(resume);
    checkpoint->needs(resume);
    return {app, [args] { return run(*args); }};
}

}  // namespace statenet::cli
