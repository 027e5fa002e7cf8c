// `statenet signal`: resumes a record parked in a wait state (or, with --expire, every
// record whose wait timed out) from its park or history database.
#include "cli/commands.hpp"
#include "cli/options.hpp"
#include "io/byte_output.hpp"

#include <statenet/statenet.hpp>

#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include <memory>
#include <string>

namespace statenet::cli {

namespace {

struct SignalArgs {
    std::string db;
    std::string run;
    std::string signal;
    std::string data;
    std::string output = "-";
    bool expire = false;
    std::string now;
    SandboxArgs sandbox;
};

Value payload(const std::string& text) {
    if (text.empty()) return Value::object();
    try {
        return Value::from_json(text);
    } catch (const JsonError& e) {
        throw usage_error(fmt::format("--data: {}", e.what()));
    }
}

bool failed(const Result& r) { return !r.ok && !r.parked; }

int deliver(const SignalArgs& a) {
    if (a.run.empty() || a.signal.empty()) throw usage_error("signal needs RUN_ID and SIGNAL (or --expire)");
    Engine engine(a.sandbox.engine_options());
    const Result result = engine.signal(a.db, a.run, a.signal, payload(a.data));
    auto output = detail::open_output(a.output);
    output->write_line(result.to_value().to_json(2));
    output->close();
    return failed(result) ? exit_records_failed : exit_ok;
}

int expire(const SignalArgs& a) {
    if (!a.run.empty() || !a.data.empty()) throw usage_error("--expire takes no RUN_ID, SIGNAL or --data");
    std::optional<std::int64_t> now;
    if (!a.now.empty()) {
        now = parse_history_time(a.now, history_now_us());
        if (!now) throw usage_error(fmt::format("--now '{}': expected a UTC time such as 2026-11-24T08:00:00Z", a.now));
    }
    Engine engine(a.sandbox.engine_options());
    const auto results = engine.expire_signals(a.db, now);
    auto output = detail::open_output(a.output);
    std::size_t bad = 0, parked = 0;
    for (const Result& r : results) {
        output->write_line(r.to_value().to_json());
        bad += failed(r) ? 1 : 0;
        parked += r.parked ? 1 : 0;
    }
    output->close();
    fmt::print(stderr, "statenet: {} overdue records resumed with SignalTimeout: {} ok, {} failed, {} parked again\n",
               results.size(), results.size() - bad - parked, bad, parked);
    return bad > 0 ? exit_records_failed : exit_ok;
}

}  // namespace

Command add_signal_command(CLI::App& root) {
    auto args = std::make_shared<SignalArgs>();
    CLI::App* app = root.add_subcommand("signal", "Resume a record parked in a wait state");
    app->footer(
        "Resumes the record parked under RUN_ID in DB (its history database, or the --park database it\n"
        "ran with) with SIGNAL: the workflow is loaded from the file the record parked by, the record goes\n"
        "on from its waiting state with the --data payload in ctx.signal, and its result is printed as\n"
        "`run --data` prints one. A record resumes once: a second signal, a signal with another name or\n"
        "an unknown run id is refused and changes nothing. With --expire, every record whose timeout_ms\n"
        "has passed goes on with the error SignalTimeout instead (one JSON line each); run it from cron.\n"
        "List parked records with `statenet history list --db DB --parked`.\n"
        "Exit status: 0 resumed (finished or parked again), 1 a resumed record failed, 2 usage, refused\n"
        "signal, workflow or database error.");
    app->add_option("--db", args->db, "The park or history database the record parked in")->required()->type_name("DB");
    app->add_option("RUN_ID", args->run, "The parked record's run id (or a unique prefix)")->type_name("");
    app->add_option("SIGNAL", args->signal, "The signal's name, as its wait state declares it")->type_name("");
    auto* data =
        app->add_option("--data", args->data, "The signal's payload (ctx.signal), JSON; default {}")->type_name("JSON");
    app->add_option("-o,--output", args->output, "Write the result to FILE (default: stdout)")->type_name("FILE");
    auto* expire_flag = app->add_flag("--expire", args->expire,
                                      "Resume every record whose wait timed out, with the error SignalTimeout");
    app->add_option("--now", args->now, "With --expire: the time deadlines are compared with (default: now)")
        ->type_name("T")
        ->needs(expire_flag);
    expire_flag->excludes(data);
    add_sandbox_options(app, args->sandbox);
    return {app, [args] { return args->expire ? expire(*args) : deliver(*args); }};
}

}  // namespace statenet::cli
