// `statenet machine serve`: one process owning a store, serving its machines over HTTP.
#include "cli/commands.hpp"
#include "cli/options.hpp"
#include "server/serve.hpp"
#include "server/store_lock.hpp"
#include "statenet_config.hpp"

#include <statenet/statenet.hpp>

#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

namespace statenet::cli {

namespace {

struct ServeArgs {
    std::string store;
    std::string workflow;
    std::vector<std::string> sets;
    std::string listen = "127.0.0.1:8080";
    bool watch = false;
    std::string token_env;
    bool insecure = false;
    std::size_t threads = 64;
    double maintain_every = 60;
    bool full_sync = false;
};

/// `HOST:PORT` or `[IPv6]:PORT` into the options.
void parse_listen(const std::string& text, server::ServeOptions& options) {
    const auto colon = text.rfind(':');
    if (colon == std::string::npos || colon == 0)
        throw usage_error(fmt::format("--listen wants HOST:PORT, not '{}'", text));
    std::string host = text.substr(0, colon);
    if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
    const std::string port = text.substr(colon + 1);
    int number = -1;
    auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), number);
    if (ec != std::errc() || end != port.data() + port.size() || number < 0 || number > 65535)
        throw usage_error(fmt::format("--listen: '{}' is not a port (0-65535; 0 picks a free one)", port));
    options.host = host;
    options.port = number;
}

bool loopback(const std::string& host) { return host == "localhost" || host == "::1" || host.starts_with("127."); }

std::string token_from(const ServeArgs& args) {
    if (args.token_env.empty()) return {};
    const char* token = std::getenv(args.token_env.c_str());
    if (!token || !*token)
        throw usage_error(fmt::format("--token-env: the environment variable {} is not set", args.token_env));
    return token;
}

int serve(const ServeArgs& args) {
    server::ServeOptions options;
    parse_listen(args.listen, options);
    options.server.token = token_from(args);
    options.server.threads = args.threads;
    if (options.server.token.empty() && !loopback(options.host) && !args.insecure)
        throw usage_error(
            fmt::format("refusing to serve {} without a token: use --token-env NAME, a loopback address or --insecure",
                        args.listen));
    if (args.threads == 0) throw usage_error("--threads must be at least 1");
    if (!(args.maintain_every >= 0)) throw usage_error("--maintain-every must be 0 (never) or more seconds");
    options.watch = args.watch;
    options.maintain_every_s = args.maintain_every;
    options.listening = [](const std::string& address) {
        fmt::print("{}\n", address);
        std::fflush(stdout);
    };
    options.reloaded = [&](const ReloadReport& report) { print_reload(report, args.workflow); };
    options.log = [](std::string_view line) { std::fputs(fmt::format("statenet: {}\n", line).c_str(), stderr); };

    // A new deployment starts from an empty store; a typo should not go unnoticed.
    if (!std::filesystem::exists(args.store)) options.log(fmt::format("creating the store {}", args.store));
    const server::StoreLock owner(args.store);
    Engine engine;
    MachinesOptions machine_options;
    machine_options.store = args.store;
    machine_options.full_sync = args.full_sync;
    machine_options.load = load_options(args.sets, std::nullopt);
    // A supervising workflow's machines come with their tree (docs/supervision.md).
    std::unique_ptr<Supervisor> supervisor;
    std::unique_ptr<Machines> plain;
    if (Supervisor::supervises(engine, args.workflow, machine_options.load)) {
        supervisor = std::make_unique<Supervisor>(engine, args.workflow, std::move(machine_options));
        options.server.supervisor = supervisor.get();
    } else {
        plain = std::make_unique<Machines>(engine, args.workflow, std::move(machine_options));
    }
    Machines& machines = supervisor ? supervisor->machines() : *plain;
    if (!server::serve(machines, options)) {
        print_error("the server stopped on an error");
        return exit_usage;
    }
    options.log("drained; every acknowledged event is in the store");
    return exit_ok;
}

}  // namespace

Command add_machine_serve_command(CLI::App& machine) {
    auto args = std::make_shared<ServeArgs>();
    CLI::App* app = machine.add_subcommand("serve", "Serve the store's instances over HTTP/JSON and fire their timers");
    app->add_option("--store", args->store, "SQLite database holding the instances (created if missing)")
        ->required()
        ->type_name("DB");
    app->add_option("WORKFLOW", args->workflow, "Workflow file (.toml or .lua)")->required()->type_name("");
    app->add_option("--set", args->sets, "Override a workflow var; VALUE is JSON if it parses, else a string")
        ->type_name("KEY=VALUE")
        ->allow_extra_args(false);
    app->add_option("--listen", args->listen, "Address to listen on (default 127.0.0.1:8080; port 0 picks a free one)")
        ->type_name("HOST:PORT");
    app->add_flag("--watch", args->watch, "Reload the workflow and its Lua modules when they change");
    app->add_option("--token-env", args->token_env,
                    "Require 'Authorization: Bearer <token>' with the token from this environment variable")
        ->type_name("NAME");
    app->add_flag("--insecure", args->insecure, "Allow a non-loopback address without a token");
    app->add_option("--threads", args->threads, "HTTP worker threads; each open connection holds one (default 64)")
        ->type_name("N");
    app->add_option("--maintain-every", args->maintain_every,
                    "Seconds between recovery and pruning runs (default 60, 0 = never)")
        ->type_name("S");
    app->add_flag("--full-sync", args->full_sync,
                  "SQLite synchronous=FULL: committed events survive a power loss too, not only a crash");
    app->footer(
        "Prints the bound address (http://HOST:PORT) as stdout's first line, then serves until SIGTERM or\n"
        "SIGINT: it stops accepting connections, finishes the requests in progress and exits 0. A send is\n"
        "answered only once the store has committed it. The routes: machines.md in " STATENET_DOC_DIR
        ", \"Serving machines over HTTP\".");
    return {app, [args] { return serve(*args); }};
}

}  // namespace statenet::cli
