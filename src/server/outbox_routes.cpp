// The outbox routes (read, ack) and `GET /events`, the server-sent-events stream of
// transitions and emitted messages.
#include "machine/machine_json.hpp"
#include "server/api_request.hpp"
#include "server/routes.hpp"

#include <fmt/format.h>

#include <charconv>
#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace statenet::server {

namespace {

/// GET /outbox?after=SEQ&topic=T&limit=N
void read_outbox(Api& api, const httplib::Request& req, httplib::Response& res) {
    OutboxOptions options;
    options.after_seq = static_cast<std::int64_t>(size_param(req, "after", 0));
    if (req.has_param("topic")) options.topic = req.get_param_value("topic");
    options.limit = size_param(req, "limit", 0);
    Value::Array messages;
    for (const auto& m : api.machines.outbox(options)) messages.push_back(detail::outbox_json(m));
    reply(res, 200, Value::object({{"messages", Value(std::move(messages))}}));
}

/// POST /outbox/ack: {"seqs": [1, 2, ...]}
void ack(Api& api, const httplib::Request& req, httplib::Response& res) {
    const Value body = body_object(req);
    const Value* seqs = body.find("seqs");
    if (!seqs || !seqs->is_array()) throw bad_request("the body needs \"seqs\": an array of outbox seqs");
    std::vector<std::int64_t> list;
    for (const Value& seq : seqs->as_array()) {
        if (!seq.is_int()) throw bad_request("\"seqs\" must hold integers");
        list.push_back(seq.as_int());
    }
    reply(res, 200, Value::object({{"acked", Value(api.machines.ack(list))}}));
}

/// Where a reader starts: after the Last-Event-ID it saw (a reconnecting client), else
/// after the newest item (only what happens from now on).
std::uint64_t start_after(Api& api, const httplib::Request& req) {
    const std::string last = req.get_header_value("Last-Event-ID");
    std::uint64_t id = 0;
    auto [end, ec] = std::from_chars(last.data(), last.data() + last.size(), id);
    if (!last.empty() && ec == std::errc() && end == last.data() + last.size()) return id;
    return api.stream.last_id();
}

/// GET /events?instance=ID: `event: transition|message`, `id:` and one JSON `data:` line
/// per item. A comment opens the stream (the client knows it is connected) and another
/// follows every idle 15 s, which keeps proxies from closing it and finds closed clients.
void events(Api& api, const httplib::Request& req, httplib::Response& res) {
    struct Reader {
        std::uint64_t after;
        bool greeted = false;
    };
    if (api.streams.fetch_add(1) >= api.max_streams) {
        api.streams.fetch_sub(1);
        throw HttpError(503, "unavailable",
                        fmt::format("too many event streams (at most {}: half of --threads)", api.max_streams));
    }
    const std::string instance = req.get_param_value("instance");
    auto reader = std::make_shared<Reader>(Reader{start_after(api, req)});
    res.set_header("Cache-Control", "no-cache");
    res.set_chunked_content_provider(
        "text/event-stream",
        [&api, instance, reader](std::size_t, httplib::DataSink& sink) {
            if (!reader->greeted) {
                reader->greeted = true;
                constexpr std::string_view hello = ": connected\n\n";
                return sink.write(hello.data(), hello.size());
            }
            bool closed = false;
            const auto items = api.stream.wait(reader->after, std::chrono::seconds(15), closed);
            std::string text;
            for (const auto& item : items) {
                reader->after = item.id;
                if (!instance.empty() && item.instance != instance) continue;
                text += fmt::format("id: {}\nevent: {}\ndata: {}\n\n", item.id, item.kind, item.data);
            }
            if (text.empty() && !closed) text = ": keep-alive\n\n";
            if (!text.empty() && !sink.write(text.data(), text.size())) return false;
            if (closed) sink.done();
            return true;
        },
        [&api](bool) { api.streams.fetch_sub(1); });
}

}  // namespace

void add_outbox_routes(httplib::Server& http, Api& api) {
    http.Get("/outbox", [&api](const httplib::Request& req, httplib::Response& res) { read_outbox(api, req, res); });
    http.Post("/outbox/ack", [&api](const httplib::Request& req, httplib::Response& res) { ack(api, req, res); });
    http.Get("/events", [&api](const httplib::Request& req, httplib::Response& res) { events(api, req, res); });
}

}  // namespace statenet::server
