// MachineServer: the HTTP/JSON API over one Machines (docs/machines.md, "Serving
// machines over HTTP"). Owns the httplib server, the event stream fed by the machines'
// listener, the metrics, bearer-token checks and the mapping of errors to JSON replies.
// Thread-safe: stop() may be called from any thread while run() serves.
#pragma once

#include "server/event_stream.hpp"
#include "server/metrics.hpp"
#include "server/routes.hpp"

#include <statenet/machines.hpp>
#include <statenet/supervisor.hpp>

#include <httplib.h>

#include <algorithm>
#include <cstddef>
#include <string>

namespace statenet::server {

struct ServerOptions {
    /// Required as `Authorization: Bearer <token>` on every route but /healthz; empty = none.
    std::string token;
    /// Worker threads: each open connection (a keep-alive client, an event stream) holds
    /// one. Event streams may take half of them.
    std::size_t threads = 64;
    /// A supervising workflow's supervisor: GET /instances/{id}/tree shows its tree, and
    /// serve() ticks it. Null: a plain workflow (the tree is the instance alone).
    Supervisor* supervisor = nullptr;
    /// How often serve() ticks the supervisor.
    double supervise_every_ms = 100;
};

class MachineServer {
public:
    MachineServer(Machines& machines, ServerOptions options);
    ~MachineServer();
    MachineServer(const MachineServer&) = delete;
    MachineServer& operator=(const MachineServer&) = delete;

    /// Binds `host:port` (port 0: a free one); returns the bound port. Throws
    /// std::runtime_error when the address cannot be bound.
    int bind(const std::string& host, int port);
    /// Serves until stop(); returns once the requests in progress have finished.
    /// False when the server failed rather than being stopped.
    bool run();
    /// run() is accepting connections.
    bool running() const { return http_.is_running(); }
    /// Stops accepting connections and ends the event streams; requests in progress
    /// finish. Call it once, while running() (httplib's stop() does nothing before that).
    void stop();

private:
    Machines& machines_;
    ServerOptions options_;
    Metrics metrics_;
    EventStream stream_;
    Api api_{machines_, metrics_, stream_, options_.supervisor, std::max<std::size_t>(1, options_.threads / 2)};
    httplib::Server http_;
    std::size_t listener_ = 0;

    void listen_to_machines();
    void add_service_routes();
    void handle_errors();
    bool authorized(const httplib::Request& req) const;
};

}  // namespace statenet::server
