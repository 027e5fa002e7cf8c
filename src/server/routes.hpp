// The routes of the machine HTTP API, grouped by what they serve; each group adds its
// handlers to the server. The handlers throw HttpError for a request they refuse.
#pragma once

#include "server/event_stream.hpp"
#include "server/metrics.hpp"

#include <statenet/machines.hpp>
#include <statenet/supervisor.hpp>

#include <httplib.h>

#include <atomic>
#include <cstddef>

namespace statenet::server {

/// What the handlers share; outlives the httplib server.
struct Api {
    Machines& machines;
    Metrics& metrics;
    EventStream& stream;
    Supervisor* supervisor = nullptr;  ///< a supervising workflow's (GET /instances/{id}/tree)
    /// Event streams hold a worker thread each: at most this many at once, so that
    /// requests always find a worker.
    std::size_t max_streams = 1;
    std::atomic<std::size_t> streams{0};
};

/// start, send, show, list, audit, accepts: /instances...
void add_instance_routes(httplib::Server& http, Api& api);
/// /outbox, /outbox/ack and the server-sent events of /events.
void add_outbox_routes(httplib::Server& http, Api& api);

}  // namespace statenet::server
