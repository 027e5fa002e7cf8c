// `statenet history`: list, show, path, stats, prune, export and replay over a history database.
#include "cli/commands.hpp"
#include "cli/history_render.hpp"
#include "cli/options.hpp"
#include "io/byte_output.hpp"

#include <statenet/statenet.hpp>

#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include <memory>
#include <string>
#include <vector>

namespace statenet::cli {

namespace {

struct FilterArgs {
    std::string status, state, workflow, since, until;
    std::size_t limit = 0;
};

struct HistoryArgs {
    std::string db;
    FilterArgs filter;
    std::string run;
    std::vector<std::string> runs;
    std::string format;
    std::string output = "-";
    std::string workflow;
    std::vector<std::string> sets;
    std::optional<std::int64_t> max_runs;
    std::string max_age, before;
    bool parked = false;
};

std::int64_t time_arg(const std::string& option, const std::string& text) {
    auto t = parse_history_time(text, history_now_us());
    if (!t)
        throw usage_error(
            fmt::format("{} '{}': expected a UTC time (2026-11-24, 2026-11-24T08:00:00Z) or an age "
                        "(90s, 15m, 12h, 7d)",
                        option, text));
    return *t;
}

HistoryFilter to_filter(const FilterArgs& a, const std::vector<std::string>& runs = {}) {
    HistoryFilter f;
    if (!a.status.empty()) f.ok = a.status == "ok";
    f.state = a.state;
    f.workflow = a.workflow;
    if (!a.since.empty()) f.since_us = time_arg("--since", a.since);
    if (!a.until.empty()) f.until_us = time_arg("--until", a.until);
    f.limit = a.limit;
    f.runs = runs;
    return f;
}

CLI::App* add_db(CLI::App* app, HistoryArgs& args) {
    app->add_option("--db", args.db, "History database")->required()->type_name("DB");
    return app;
}

void add_filters(CLI::App* app, FilterArgs& f, bool with_limit) {
    app->add_option("--status", f.status, "Only runs that ended ok or failed")
        ->type_name("STATUS")
        ->check(CLI::IsMember({"ok", "failed"}));
    app->add_option("--state", f.state, "Only runs that entered or ended in this state (network/state or state)")
        ->type_name("STATE");
    app->add_option("--workflow", f.workflow, "Only runs of this workflow (its name)")->type_name("NAME");
    app->add_option("--since", f.since, "Only runs started at or after T (UTC time, or an age such as 2h)")
        ->type_name("T");
    app->add_option("--until", f.until, "Only runs started before T")->type_name("T");
    if (with_limit) app->add_option("--limit", f.limit, "Only the newest N runs (0 = all)")->type_name("N");
}

void write_out(const std::string& path, const std::string& text) {
    auto out = detail::open_output(path);
    out->write(text);
    out->close();
}

int list_parked(const HistoryArgs& a) {
    const FilterArgs& f = a.filter;
    if (!f.status.empty() || !f.state.empty() || !f.workflow.empty() || !f.since.empty() || !f.until.empty() ||
        f.limit != 0)
        throw usage_error(
            "--parked lists every waiting record: it takes no run filters (--status, --state, "
            "--workflow, --since, --until, --limit)");
    const History history(a.db);
    const auto parked = history.parked();
    if (a.format == "json") {
        Value items = Value::array();
        for (const auto& p : parked) items.push_back(p.to_value());
        write_out("-", items.to_json(2) + "\n");
    } else {
        write_out("-", parked_table(parked));
    }
    return exit_ok;
}

int list(const HistoryArgs& a) {
    if (a.parked) return list_parked(a);
    const History history(a.db);
    const auto runs = history.runs(to_filter(a.filter));
    if (a.format == "json") {
        Value items = Value::array();
        for (const auto& r : runs) items.push_back(r.to_value());
        write_out("-", items.to_json(2) + "\n");
    } else {
        write_out("-", runs_table(runs));
    }
    return exit_ok;
}

int show(const HistoryArgs& a) {
    const History history(a.db);
    const HistoryRun run = history.run(a.run);
    const auto steps = history.steps(run);
    if (a.format == "json") {
        Value v = run.to_value();
        Value list = Value::array();
        for (const auto& s : steps) list.push_back(s.to_value());
        v.set("steps", std::move(list));
        write_out(a.output, v.to_json(2) + "\n");
    } else if (a.format == "mermaid" || a.format == "dot") {
        if (steps.empty())
            throw usage_error(fmt::format("run {} has no steps to draw (recorded at level {})", run.run_id,
                                          history_level_name(run.level)));
        if (!a.workflow.empty()) {
            LoadOptions options;
            options.history_level = HistoryLevel::off;
            Engine engine;
            const Workflow workflow = engine.load(a.workflow, options);
            write_out(a.output, workflow.graph(a.format == "mermaid" ? GraphFormat::mermaid : GraphFormat::dot, steps));
        } else {
            write_out(a.output, a.format == "mermaid" ? path_mermaid(run, steps) : path_dot(run, steps));
        }
    } else {
        write_out(a.output, run_text(run, steps));
    }
    return exit_ok;
}

int path(const HistoryArgs& a) {
    const History history(a.db);
    const HistoryRun run = history.run(a.run);
    const auto steps = history.steps(run);
    if (steps.empty())
        throw usage_error(fmt::format("run {} has no steps (recorded at level {}; use steps or full)", run.run_id,
                                      history_level_name(run.level)));
    const auto states = run_path(steps);
    if (a.format == "json") {
        Value items = Value::array();
        for (const auto& s : states) items.push_back(s);
        write_out("-", items.to_json() + "\n");
    } else {
        std::string text;
        for (const auto& s : states) text += s + "\n";
        write_out("-", text);
    }
    return exit_ok;
}

int stats(const HistoryArgs& a) {
    const History history(a.db);
    const HistoryStats s = history.stats(to_filter(a.filter));
    write_out("-", a.format == "json" ? stats_value(s).to_json(2) + "\n" : stats_table(s));
    return exit_ok;
}

int prune(const HistoryArgs& a) {
    PruneOptions options;
    if (a.max_runs) {
        if (*a.max_runs < 0) throw usage_error("--max-runs must be 0 or more");
        options.max_runs = *a.max_runs;
    }
    if (!a.max_age.empty()) {
        options.max_age_seconds = parse_history_age(a.max_age);
        if (!options.max_age_seconds)
            throw usage_error(
                fmt::format("--max-age '{}': expected an age such as 30d, 12h, 90m or seconds", a.max_age));
    }
    if (!a.before.empty()) options.before_us = time_arg("--before", a.before);
    if (!options.max_runs && !options.max_age_seconds && !options.before_us)
        throw usage_error("history prune needs --max-runs, --max-age or --before");
    History history(a.db);
    const std::int64_t pruned = history.prune(options);
    fmt::print(stderr, "statenet: pruned {} runs from {}\n", pruned, a.db);
    return exit_ok;
}

int export_runs(const HistoryArgs& a) {
    const History history(a.db);
    auto output = detail::open_output(a.output);
    detail::ByteOutput& out = *output;
    const bool array = a.format == "json";
    if (array) out.write("[\n");
    bool first = true;
    for (const auto& run : history.runs(to_filter(a.filter))) {
        Value v = run.to_value();
        Value steps = Value::array();
        for (const auto& s : history.steps(run)) steps.push_back(s.to_value());
        v.set("steps", std::move(steps));
        if (array && !first) out.write(",\n");
        first = false;
        if (array) out.write(v.to_json());
        else out.write_line(v.to_json());
    }
    if (array) out.write("\n]\n");
    out.close();
    return exit_ok;
}

int replay_runs(const HistoryArgs& a) {
    LoadOptions options = load_options(a.sets, std::nullopt);
    options.history_level = HistoryLevel::off;  // a replay records nothing
    const History history(a.db);
    Engine engine;
    const Workflow workflow = engine.load(a.workflow, options);
    const ReplayReport report = replay(workflow, history, to_filter(a.filter, a.runs));
    write_out("-", a.format == "json" ? replay_value(report).to_json(2) + "\n" : replay_text(report));
    return report.divergences.empty() ? exit_ok : exit_records_failed;
}

}  // namespace

Command add_history_command(CLI::App& root) {
    auto args = std::make_shared<HistoryArgs>();
    HistoryArgs& a = *args;
    CLI::App* app = root.add_subcommand("history", "Inspect and replay execution history");
    app->require_subcommand(1);
    app->footer(
        "Record history with `statenet run --history DB` or [history] in the workflow.\n"
        "RUN is a run id, a unique prefix of one, or #ID (the ID column of `history list`).\n"
        "Exit status: 0 success, 1 replay found diverging runs, 2 usage or database error.");

    CLI::App* list_app = add_db(app->add_subcommand("list", "List recorded runs, oldest first"), a);
    add_filters(list_app, a.filter, true);
    list_app->add_option("--format", a.format, "table (default) or json")->check(CLI::IsMember({"table", "json"}));
    list_app->add_flag("--parked", a.parked,
                       "List the records parked in wait states instead: run id, state, signal, deadline, since "
                       "(resume one with `statenet signal`)");

    CLI::App* show_app = add_db(app->add_subcommand("show", "Show one run and its step tree"), a);
    show_app->add_option("RUN", a.run, "Run id, unique prefix or #ID")->required()->type_name("");
    show_app->add_option("--format", a.format, "text (default), json, or the path drawn as mermaid or dot")
        ->check(CLI::IsMember({"text", "json", "mermaid", "dot"}));
    show_app->add_option("-o,--output", a.output, "Output file, - for stdout (default)")->type_name("FILE");
    show_app->add_option("--workflow", a.workflow, "With mermaid or dot: draw the run over this workflow's whole graph")
        ->type_name("FILE");

    CLI::App* path_app = add_db(app->add_subcommand("path", "Print the states a run entered, in order"), a);
    path_app->add_option("RUN", a.run, "Run id, unique prefix or #ID")->required()->type_name("");
    path_app->add_option("--format", a.format, "text (default, one state per line) or json")
        ->check(CLI::IsMember({"text", "json"}));

    CLI::App* stats_app =
        add_db(app->add_subcommand("stats", "Per state entries, failures and p50/p95 durations; per error counts"), a);
    add_filters(stats_app, a.filter, false);
    stats_app->add_option("--format", a.format, "table (default) or json")->check(CLI::IsMember({"table", "json"}));

    CLI::App* prune_app = add_db(app->add_subcommand("prune", "Delete old runs and their steps"), a);
    prune_app->add_option("--max-runs", a.max_runs, "Keep only the newest N runs")->type_name("N");
    prune_app->add_option("--max-age", a.max_age, "Delete runs older than AGE (30d, 12h, 90m, seconds)")
        ->type_name("AGE");
    prune_app->add_option("--before", a.before, "Delete runs started before T")->type_name("T");

    CLI::App* export_app = add_db(app->add_subcommand("export", "Write runs with their steps as JSON or JSONL"), a);
    add_filters(export_app, a.filter, true);
    export_app->add_option("--format", a.format, "jsonl (default, one run per line) or json (an array)")
        ->check(CLI::IsMember({"jsonl", "json"}));
    export_app->add_option("-o,--output", a.output, "Output file, - for stdout (default)")->type_name("FILE");

    CLI::App* replay_app = add_db(
        app->add_subcommand("replay", "Re-run recorded inputs (level full) through WORKFLOW and report what differs"),
        a);
    replay_app->add_option("WORKFLOW", a.workflow, "Workflow file (.toml or .lua)")->required()->type_name("");
    replay_app->add_option("RUN", a.runs, "Runs to replay (default: every run the filters select)")->type_name("");
    add_filters(replay_app, a.filter, true);
    replay_app->add_option("--set", a.sets, "Override a workflow var; VALUE is JSON if it parses, else a string")
        ->type_name("KEY=VALUE")
        ->allow_extra_args(false);
    replay_app->add_option("--format", a.format, "text (default) or json")->check(CLI::IsMember({"text", "json"}));

    return {app, [args, list_app, show_app, path_app, stats_app, prune_app, export_app, replay_app] {
                const HistoryArgs& a = *args;
                if (list_app->parsed()) return list(a);
                if (show_app->parsed()) return show(a);
                if (path_app->parsed()) return path(a);
                if (stats_app->parsed()) return stats(a);
                if (prune_app->parsed()) return prune(a);
                if (export_app->parsed()) return export_runs(a);
                if (replay_app->parsed()) return replay_runs(a);
                return static_cast<int>(exit_usage);
            }};
}

}  // namespace statenet::cli
