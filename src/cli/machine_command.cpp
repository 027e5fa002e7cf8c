// `statenet machine`: start, send, show, list, tick and recover durable machine instances.
#include "cli/commands.hpp"
#include "cli/options.hpp"
#include "io/byte_input.hpp"
#include "io/line_reader.hpp"
#include "machine/machine_json.hpp"
#include "statenet_config.hpp"

#include <statenet/statenet.hpp>

#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace statenet::cli {

namespace {

using detail::audit_json;
using detail::instance_json;
using detail::result_json;

struct MachineArgs {
    std::string store;
    std::string workflow;
    std::optional<double> now;
    std::vector<std::string> sets;
    std::string id;
    std::vector<std::string> ids;
    std::string event;
    std::string data = "{}";
    std::string payload;
    std::string key;
    std::string events;
    bool watch = false;
    std::string state;
    bool active = false;
    std::size_t audit = 20;
    std::string topic;
    std::int64_t after = 0;
    std::size_t limit = 0;
    std::vector<std::int64_t> seqs;
};

Value parse_json(const std::string& text, std::string_view what) {
    try {
        return Value::from_json(text);
    } catch (const JsonError& e) {
        throw usage_error(fmt::format("{} is not valid JSON: {}", what, e.what()));
    }
}

enum class Open { create, existing, read_only };

/// Opens the store (which must exist unless `how` is create) and the workflow; read_only
/// falls back to the store alone when the workflow does not load.
std::unique_ptr<Machines> open(Engine& engine, const MachineArgs& args, Open how = Open::existing) {
    MachinesOptions options;
    options.store = args.store;
    options.recover_on_open = false;
    // A one-shot command ends before an action would: actions it starts wait in the
    // store for `serve` (or other machines with workers).
    options.action_workers = 0;
    options.create_store = how == Open::create;
    options.load = load_options(args.sets, std::nullopt);
    if (args.now) options.clock = std::make_shared<ManualClock>(*args.now);
    if (how != Open::read_only) return std::make_unique<Machines>(engine, args.workflow, std::move(options));
    try {
        return std::make_unique<Machines>(engine, args.workflow, options);
    } catch (const LoadError& e) {
        print_error(fmt::format("the workflow does not load; showing the store as it is ({} problem(s), first: {})",
                                e.diagnostics().size(), e.diagnostics().empty() ? "" : e.diagnostics()[0].str()));
        options.read_only = true;
        return std::make_unique<Machines>(engine, args.workflow, std::move(options));
    }
}

/// Prints results one JSON line each; exit status 1 when one was rejected.
int print_results(const std::vector<SendResult>& results) {
    bool rejected = false;
    for (const auto& r : results) {
        fmt::print("{}\n", result_json(r).to_json());
        rejected = rejected || r.status == SendStatus::rejected ||
                   (r.status == SendStatus::duplicate && r.first == SendStatus::rejected);
    }
    std::fflush(stdout);
    return rejected ? exit_records_failed : exit_ok;
}

/// `send --events FILE`: one JSON object per line, {"id", "event", "payload"?, "key"?}.
MachineEvent event_of(std::string_view line, std::size_t number, const std::string& file) {
    Value v;
    try {
        v = Value::from_json(line);
    } catch (const JsonError& e) {
        throw usage_error(fmt::format("{}:{}: not valid JSON: {}", file, number, e.what()));
    }
    const Value* id = v.is_object() ? v.find("id") : nullptr;
    const Value* event = v.is_object() ? v.find("event") : nullptr;
    if (!id || !id->is_string() || !event || !event->is_string())
        throw usage_error(fmt::format("{}:{}: an event line needs string \"id\" and \"event\"", file, number));
    MachineEvent e{id->as_string(), event->as_string()};
    if (const Value* payload = v.find("payload")) e.payload = *payload;
    if (const Value* key = v.find("key")) {
        if (!key->is_string()) throw usage_error(fmt::format("{}:{}: \"key\" must be a string", file, number));
        e.key = key->as_string();
    }
    return e;
}

int send_stream(Machines& machines, const MachineArgs& args) {
    auto input = detail::open_input(args.events);
    detail::LineReader reader(*input);
    constexpr std::size_t batch_size = 1000;
    std::vector<MachineEvent> batch;
    int status = exit_ok;
    auto flush = [&] {
        if (batch.empty()) return;
        if (print_results(machines.send_many(batch)) != exit_ok) status = exit_records_failed;
        batch.clear();
    };
    // Before the reader waits for more input (a pipe, a terminal), the events read so far
    // are applied: an event is never held back while its sender waits.
    reader.before_read([&] {
        flush();
        std::fflush(stdout);
    });
    std::string_view line;
    while (reader.next(line)) {
        if (line.find_first_not_of(" \t") == std::string_view::npos) continue;
        batch.push_back(event_of(line, reader.line_number(), args.events));
        // Watching: each event alone, with a reload check before it.
        if (args.watch) {
            if (auto report = machines.reload_if_changed()) print_reload(*report, args.workflow);
            flush();
        } else if (batch.size() >= batch_size) {
            flush();
        }
    }
    flush();
    return status;
}

int send(const MachineArgs& args) {
    Engine engine;
    auto machines = open(engine, args);
    if (!args.events.empty()) return send_stream(*machines, args);
    if (args.id.empty() || args.event.empty()) throw usage_error("machine send needs ID and EVENT (or --events FILE)");
    const Value payload = args.payload.empty() ? Value() : parse_json(args.payload, "--payload");
    return print_results({machines->send(args.id, args.event, payload, args.key)});
}

int start(const MachineArgs& args) {
    Engine engine;
    const Value data = parse_json(args.data, "--data");
    if (!data.is_object()) throw usage_error("--data must be a JSON object");
    auto machines = open(engine, args, Open::create);
    std::vector<SendResult> results;
    for (const auto& id : args.ids) results.push_back(machines->start(id, data));
    return print_results(results);
}

int show(const MachineArgs& args) {
    Engine engine;
    auto machines = open(engine, args, Open::read_only);
    auto info = machines->get(args.id);
    if (!info) throw usage_error(fmt::format("no machine instance '{}'", args.id));
    Value out = instance_json(*info);
    try {
        Value::Array accepts;
        for (const auto& event : machines->accepts(args.id)) accepts.push_back(Value(event));
        out.set("accepts", Value(std::move(accepts)));
    } catch (const std::logic_error&) {
        // read-only: the workflow that would say did not load
    }
    Value::Array rows;
    for (const auto& e : machines->audit(args.id, args.audit)) rows.push_back(audit_json(e));
    out.set("audit", Value(std::move(rows)));
    fmt::print("{}\n", out.to_json(2));
    return exit_ok;
}

int list(const MachineArgs& args) {
    Engine engine;
    auto machines = open(engine, args, Open::read_only);
    ListOptions options;
    if (!args.state.empty()) options.state = args.state;
    options.include_completed = !args.active;
    for (const auto& info : machines->list(options)) fmt::print("{}\n", instance_json(info).to_json());
    return exit_ok;
}

MachinesOptions supervisor_options(const MachineArgs& args) {
    MachinesOptions options;
    options.store = args.store;
    options.recover_on_open = false;
    options.create_store = false;
    options.load = load_options(args.sets, std::nullopt);
    if (args.now) options.clock = std::make_shared<ManualClock>(*args.now);
    return options;
}

/// A supervising workflow's tick: the supervisor's report as one JSON line; exit 1 when
/// a children function, a template or a health check failed.
int supervise_tick(Engine& engine, const MachineArgs& args) {
    Supervisor supervisor(engine, args.workflow, supervisor_options(args));
    const SuperviseReport r = supervisor.tick();
    const auto count = [](std::size_t n) { return Value(static_cast<std::int64_t>(n)); };
    Value::Array errors;
    for (const auto& e : r.errors) errors.push_back(Value(e));
    fmt::print("{}\n", Value::object({{"started", count(r.started)},
                                      {"updated", count(r.updated)},
                                      {"stopping", count(r.stopping)},
                                      {"removed", count(r.removed)},
                                      {"forced", count(r.forced)},
                                      {"mapped", count(r.mapped)},
                                      {"restarted", count(r.restarted)},
                                      {"escalated", count(r.escalated)},
                                      {"held", count(r.held)},
                                      {"timers", count(r.timers)},
                                      {"errors", Value(std::move(errors))}})
                           .to_json());
    std::fflush(stdout);
    return r.errors.empty() ? exit_ok : exit_records_failed;
}

int tick(const MachineArgs& args) {
    Engine engine;
    if (Supervisor::supervises(engine, args.workflow, load_options(args.sets, std::nullopt)))
        return supervise_tick(engine, args);
    auto machines = open(engine, args);
    return print_results(machines->tick());
}

int tree(const MachineArgs& args) {
    Engine engine;
    Supervisor supervisor(engine, args.workflow, supervisor_options(args));
    auto node = supervisor.tree(args.id);
    if (!node) throw usage_error(fmt::format("no machine instance '{}'", args.id));
    fmt::print("{}\n", node->to_value().to_json(2));
    return exit_ok;
}

int outbox(const MachineArgs& args) {
    Engine engine;
    auto machines = open(engine, args, Open::read_only);
    OutboxOptions options;
    options.after_seq = args.after;
    if (!args.topic.empty()) options.topic = args.topic;
    options.limit = args.limit;
    for (const auto& m : machines->outbox(options)) fmt::print("{}\n", detail::outbox_json(m).to_json());
    return exit_ok;
}

int ack(const MachineArgs& args) {
    Engine engine;
    auto machines = open(engine, args, Open::read_only);
    const std::size_t acked = machines->ack(args.seqs);
    fmt::print("{}\n", Value::object({{"acked", Value(static_cast<std::int64_t>(acked))}}).to_json());
    return exit_ok;
}

int prune(const MachineArgs& args) {
    Engine engine;
    auto machines = open(engine, args);
    const PruneReport r = machines->prune();
    const auto count = [](std::size_t n) { return Value(static_cast<std::int64_t>(n)); };
    fmt::print("{}\n", Value::object({{"keys", count(r.keys)},
                                      {"audit", count(r.audit)},
                                      {"instances", count(r.instances)},
                                      {"outbox", count(r.outbox)}})
                           .to_json());
    return exit_ok;
}

int recover(const MachineArgs& args) {
    Engine engine;
    auto machines = open(engine, args);
    return print_results(machines->recover());
}

/// The options every machine subcommand shares.
CLI::App* add_machine_subcommand(CLI::App& machine, const std::shared_ptr<MachineArgs>& args, const char* name,
                                 const char* description) {
    CLI::App* app = machine.add_subcommand(name, description);
    app->add_option("--store", args->store, "SQLite database holding the instances (start creates it if missing)")
        ->required()
        ->type_name("DB");
    app->add_option("WORKFLOW", args->workflow, "Workflow file (.toml or .lua)")->required()->type_name("");
    app->add_option("--now", args->now, "The time, in ms since the Unix epoch (default: the system clock)")
        ->type_name("MS");
    app->add_option("--set", args->sets, "Override a workflow var; VALUE is JSON if it parses, else a string")
        ->type_name("KEY=VALUE")
        ->allow_extra_args(false);
    return app;
}

}  // namespace

Command add_machine_command(CLI::App& root) {
    auto args = std::make_shared<MachineArgs>();
    CLI::App* machine = root.add_subcommand("machine", "Drive long-lived machine instances stored in SQLite");
    machine->require_subcommand(1);
    machine->footer(
        "Results are JSON lines. Exit status: 0 ok, 1 an event was rejected (or a start failed), 2 usage,\n"
        "workflow or store error. The guide: machines.md in " STATENET_DOC_DIR ".");

    CLI::App* start_app = add_machine_subcommand(*machine, args, "start", "Create an instance in the start state");
    start_app->add_option("ID", args->ids, "Instance ids (one or more)")->required()->type_name("");
    start_app->add_option("--data", args->data, "Their initial data (default {})")->type_name("JSON");
    start_app->footer("An existing id is left as it is (status duplicate). One result line per id.");

    CLI::App* send_app = add_machine_subcommand(*machine, args, "send", "Send an event to an instance");
    auto* id = send_app->add_option("ID", args->id, "Instance id")->type_name("");
    send_app->add_option("EVENT", args->event, "Event name")->type_name("");
    send_app->add_option("--payload", args->payload, "The event's payload (ctx.event)")->type_name("JSON");
    send_app->add_option("--key", args->key, "Idempotency key: a repeated key returns the first outcome")
        ->type_name("KEY");
    auto* events =
        send_app
            ->add_option("--events", args->events,
                         "Send every event of a JSONL file (- for stdin): {\"id\",\"event\",\"payload\",\"key\"}")
            ->type_name("FILE")
            ->excludes(id);
    send_app
        ->add_flag("--watch", args->watch,
                   "With --events: reload the workflow and its Lua modules when they change, between events")
        ->needs(events);
    send_app->footer("Status applied, rejected (no arc for the event passes; nothing changes) or duplicate.");

    CLI::App* show_app = add_machine_subcommand(*machine, args, "show", "Print an instance and its audit log");
    show_app->add_option("ID", args->id, "Instance id")->required()->type_name("");
    show_app->add_option("--audit", args->audit, "How many of the newest audit rows (default 20, 0 = all)")
        ->type_name("N");

    CLI::App* list_app = add_machine_subcommand(*machine, args, "list", "List instances, one JSON line each");
    list_app->add_option("--state", args->state, "Only instances in this state (`state` or `network/state`)")
        ->type_name("STATE");
    list_app->add_flag("--active", args->active, "Leave out completed instances");

    CLI::App* tick_app = add_machine_subcommand(*machine, args, "tick", "Fire every timer (after_ms arc) that is due");
    tick_app->footer(
        "A workflow with `children` or [machines] runs one supervisor tick instead (docs/supervision.md):\n"
        "reconcile, state mapping, breakers, then every timer of the tree; it prints what it did.");
    CLI::App* tree_app = add_machine_subcommand(*machine, args, "tree",
                                                "Print an instance's supervision tree (its children, theirs...)");
    tree_app->add_option("ID", args->id, "Instance id")->required()->type_name("");

    CLI::App* outbox_app = add_machine_subcommand(*machine, args, "outbox",
                                                  "Print unacknowledged emitted messages (ctx.emit), oldest first");
    outbox_app->add_option("--topic", args->topic, "Only this topic")->type_name("TOPIC");
    outbox_app->add_option("--after", args->after, "Only messages with a larger seq")->type_name("SEQ");
    outbox_app->add_option("--limit", args->limit, "At most N messages (default all)")->type_name("N");
    CLI::App* ack_app = add_machine_subcommand(*machine, args, "ack", "Acknowledge outbox messages by seq");
    ack_app->add_option("SEQ", args->seqs, "Message seqs")->required()->type_name("");
    CLI::App* prune_app = add_machine_subcommand(
        *machine, args, "prune", "Remove what the workflow's [retention] no longer keeps, and acknowledged messages");
    CLI::App* recover_app = add_machine_subcommand(
        *machine, args, "recover", "Send the workflow's [recovery] event to instances idle longer than its idle_ms");

    const Command serve = add_machine_serve_command(*machine);

    return {machine, [=] {
                if (start_app->parsed()) return start(*args);
                if (send_app->parsed()) return send(*args);
                if (show_app->parsed()) return show(*args);
                if (list_app->parsed()) return list(*args);
                if (tick_app->parsed()) return tick(*args);
                if (tree_app->parsed()) return tree(*args);
                if (outbox_app->parsed()) return outbox(*args);
                if (ack_app->parsed()) return ack(*args);
                if (prune_app->parsed()) return prune(*args);
                if (recover_app->parsed()) return recover(*args);
                if (serve.app->parsed()) return serve.run();
                return static_cast<int>(exit_usage);
            }};
}

}  // namespace statenet::cli
