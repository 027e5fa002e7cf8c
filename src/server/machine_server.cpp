// MachineServer: routes, bearer tokens, JSON errors and the feed of the event stream.
#include "server/machine_server.hpp"

#include "machine/machine_json.hpp"
#include "server/api_request.hpp"

#include <fmt/format.h>

#include <sys/socket.h>
#include <cstring>
#include <exception>
#include <stdexcept>
#include <utility>

namespace statenet::server {

namespace {

/// Compares in time independent of where the strings differ (a token check).
bool same_secret(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    unsigned char diff = 0;
    for (std::size_t i = 0; i < a.size(); ++i) diff |= static_cast<unsigned char>(a[i] ^ b[i]);
    return diff == 0;
}

std::string_view code_of(int status) {
    switch (status) {
    case 400: return "bad_request";
    case 401: return "unauthorized";
    case 404: return "not_found";
    case 405: return "method_not_allowed";
    case 413: return "payload_too_large";
    case 501: return "not_implemented";
    case 503: return "unavailable";
    default: return status >= 500 ? "internal" : "error";
    }
}

}  // namespace

MachineServer::MachineServer(Machines& machines, ServerOptions options)
    : machines_(machines), options_(std::move(options)) {
    const std::size_t threads = options_.threads;
    http_.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
    // Clients keep their connection for many requests; an idle one closes after 2 s,
    // which also bounds how long a drain waits for it.
    http_.set_keep_alive_max_count(100000);
    http_.set_keep_alive_timeout(2);
    http_.set_payload_max_length(16 * 1024 * 1024);
    // A reply is one small write: without this, Nagle's algorithm holds it until the
    // client's delayed ACK (~40 ms per request).
    http_.set_tcp_nodelay(true);
    listen_to_machines();
    handle_errors();
    add_service_routes();
    add_instance_routes(http_, api_);
    add_outbox_routes(http_, api_);
}

MachineServer::~MachineServer() { machines_.unsubscribe(listener_); }

void MachineServer::listen_to_machines() {
    // Every committed transition (sends, starts, timers, recovery) with its messages.
    listener_ = machines_.subscribe([this](const SendResult& r, const std::vector<OutboxMessage>& emitted) {
        metrics_.count(r.status);
        stream_.publish("transition", r.instance, detail::result_json(r).to_json());
        for (const auto& m : emitted) stream_.publish("message", m.instance, detail::outbox_json(m).to_json());
    });
}

bool MachineServer::authorized(const httplib::Request& req) const {
    if (options_.token.empty() || req.path == "/healthz") return true;
    const std::string header = req.get_header_value("Authorization");
    constexpr std::string_view scheme = "Bearer ";
    return header.size() > scheme.size() && header.compare(0, scheme.size(), scheme) == 0 &&
           same_secret(std::string_view(header).substr(scheme.size()), options_.token);
}

void MachineServer::handle_errors() {
    http_.set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
        if (authorized(req)) return httplib::Server::HandlerResponse::Unhandled;
        res.set_header("WWW-Authenticate", "Bearer");
        reply_error(res, 401, "unauthorized", "a valid 'Authorization: Bearer <token>' header is required");
        return httplib::Server::HandlerResponse::Handled;
    });
    http_.set_exception_handler([](const httplib::Request&, httplib::Response& res, std::exception_ptr failure) {
        try {
            std::rethrow_exception(failure);
        } catch (const HttpError& e) {
            reply_error(res, e.status(), e.code(), e.what());
        } catch (const std::logic_error& e) {
            // A part of the machines this build does not have yet says so.
            const bool missing = std::strstr(e.what(), "not implemented") != nullptr;
            reply_error(res, missing ? 501 : 500, missing ? "not_implemented" : "internal", e.what());
        } catch (const std::exception& e) {
            reply_error(res, 500, "internal", e.what());
        }
    });
    // Statuses httplib sets by itself (no route, a body too large) get a JSON body too.
    http_.set_error_handler(
        httplib::Server::HandlerWithResponse([](const httplib::Request& req, httplib::Response& res) {
            if (!res.body.empty()) return httplib::Server::HandlerResponse::Unhandled;
            const std::string message = res.status == 404 ? fmt::format("no route for {} {}", req.method, req.path)
                                                          : fmt::format("HTTP {}", res.status);
            reply_error(res, res.status, code_of(res.status), message);
            return httplib::Server::HandlerResponse::Handled;
        }));
}

void MachineServer::add_service_routes() {
    http_.Get("/healthz", [](const httplib::Request&, httplib::Response& res) {
        reply(res, 200, Value::object({{"ok", Value(true)}}));
    });
    http_.Get("/metrics", [this](const httplib::Request&, httplib::Response& res) {
        res.set_content(metrics_.render(machines_, wall_clock()->now_ms()), "text/plain; version=0.0.4");
    });
}

int MachineServer::bind(const std::string& host, int port) {
    socket_t listening = -1;
    http_.set_socket_options([&listening](socket_t sock) {
        // SO_REUSEADDR only: a restart binds at once, but (unlike httplib's default,
        // SO_REUSEPORT) a second server on the same port fails instead of sharing it.
        const int yes = 1;
        ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
        listening = sock;
    });
    const int bound = port == 0 ? http_.bind_to_any_port(host) : (http_.bind_to_port(host, port) ? port : -1);
    if (bound < 0) throw std::runtime_error(fmt::format("cannot listen on {}:{}", host, port));
    // httplib listens with a backlog of 5: clients connecting together overflow it and
    // wait a second for their SYN to be resent. Listening again raises the backlog.
    if (listening >= 0) ::listen(listening, SOMAXCONN);
    return bound;
}

bool MachineServer::run() { return http_.listen_after_bind(); }

void MachineServer::stop() {
    http_.stop();
    stream_.close();
}

}  // namespace statenet::server
