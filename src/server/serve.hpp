// statenet::server::serve: a process serving one store's machines over HTTP until
// SIGTERM or SIGINT — the API, a thread firing timers at their due time, hot reload and
// periodic recovery and pruning — then a drain that loses no acknowledged event.
#pragma once

#include "server/machine_server.hpp"

#include <statenet/machines.hpp>

#include <functional>
#include <string>
#include <string_view>

namespace statenet::server {

struct ServeOptions {
    std::string host = "127.0.0.1";
    int port = 8080;  ///< 0: a free port
    ServerOptions server{};
    /// Reload the workflow when its code changes (checked twice a second).
    bool watch = false;
    /// Every this many seconds: the `[recovery]` event to idle instances and
    /// Machines::prune (`[retention]`). 0 = never.
    double maintain_every_s = 60;
    /// Told the bound address (`http://host:port`) once the server accepts connections.
    std::function<void(const std::string& address)> listening;
    /// Told after a reload with --watch.
    std::function<void(const ReloadReport&)> reloaded;
    /// Progress and problems (draining, a failing prune), one line each.
    std::function<void(std::string_view)> log;
};

/// Serves until SIGTERM or SIGINT, then drains: stops accepting connections, lets the
/// requests in progress finish, stops the timer loop. A second signal ends the process
/// at once (the store keeps every committed event). Returns false when the server
/// failed. Throws std::runtime_error when the address cannot be bound.
bool serve(Machines& machines, const ServeOptions& options);

}  // namespace statenet::server
