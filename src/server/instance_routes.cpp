// The /instances routes: start (one or many), send with an idempotency key (one, or a
// batch on /events), show, list, audit and accepted events.
#include "machine/machine_json.hpp"
#include "server/api_request.hpp"
#include "server/routes.hpp"

#include <fmt/format.h>

#include <chrono>
#include <stdexcept>
#include <utility>
#include <vector>

namespace statenet::server {

namespace {

using detail::audit_json;
using detail::instance_json;
using detail::result_json;

/// 200 for an applied transition (or a duplicate of one), 409 for a rejected one: the
/// event did not fit the instance's state. Either way it is stored and final.
int status_of(const SendResult& r) {
    const SendStatus outcome = r.status == SendStatus::duplicate ? r.first : r.status;
    return outcome == SendStatus::applied ? 200 : 409;
}

/// Runs a start or send, timing it and counting a duplicate (applied and rejected
/// transitions are counted by the listener, which also hears timers and recovery).
template <class F>
SendResult timed(Api& api, F&& call) {
    const auto begin = std::chrono::steady_clock::now();
    SendResult r = call();
    api.metrics.observe_latency(std::chrono::duration<double>(std::chrono::steady_clock::now() - begin).count());
    if (r.status == SendStatus::duplicate) api.metrics.count(SendStatus::duplicate);
    return r;
}

struct StartRequest {
    std::string id;
    Value data;
};

StartRequest start_request(const Value& item, std::string_view where) {
    if (!item.is_object()) throw bad_request(fmt::format("{} must be an object {{\"id\", \"data\"}}", where));
    StartRequest s{required_string(item, "id"), Value::object()};
    if (const Value* data = item.find("data"); data && !data->is_null()) {
        if (!data->is_object()) throw bad_request(fmt::format("{}: \"data\" must be a JSON object", where));
        s.data = *data;
    }
    return s;
}

/// POST /instances: {"id", "data"} or {"instances": [{"id", "data"}, ...]}.
void start(Api& api, const httplib::Request& req, httplib::Response& res) {
    const Value body = body_object(req);
    const Value* many = body.find("instances");
    if (!many) {
        const StartRequest s = start_request(body, "the body");
        const SendResult r = timed(api, [&] { return api.machines.start(s.id, s.data); });
        reply(res, status_of(r), result_json(r));
        return;
    }
    if (!many->is_array()) throw bad_request("\"instances\" must be an array of {\"id\", \"data\"}");
    // Every item is checked before any instance starts.
    std::vector<StartRequest> starts;
    for (std::size_t i = 0; i < many->as_array().size(); ++i)
        starts.push_back(start_request((*many)[i], fmt::format("instances[{}]", i)));
    Value::Array results;
    for (const auto& s : starts)
        results.push_back(result_json(timed(api, [&] { return api.machines.start(s.id, s.data); })));
    reply(res, 200, Value::object({{"results", Value(std::move(results))}}));
}

/// The idempotency key: the `Idempotency-Key` header or the body's "key" (equal if both).
std::string key_of(const httplib::Request& req, const Value& body) {
    const std::optional<std::string> field = string_field(body, "key");
    if (!req.has_header("Idempotency-Key")) return field.value_or("");
    std::string header = req.get_header_value("Idempotency-Key");
    if (field && *field != header)
        throw bad_request("the Idempotency-Key header and the body's \"key\" differ; give one of them");
    return header;
}

/// POST /instances/{id}/events: {"event", "payload"?, "key"?}.
void send(Api& api, const std::string& id, const httplib::Request& req, httplib::Response& res) {
    const Value body = body_object(req);
    const std::string event = required_string(body, "event");
    const Value* payload = body.find("payload");
    const std::string key = key_of(req, body);
    SendResult r;
    try {
        r = timed(api, [&] { return api.machines.send(id, event, payload ? *payload : Value(), key); });
    } catch (const std::invalid_argument& e) {  // send's only one: an unknown instance
        throw not_found(e.what());
    }
    reply(res, status_of(r), result_json(r));
}

MachineEvent batch_event(const Value& item, std::size_t i) {
    if (!item.is_object())
        throw bad_request(
            fmt::format("events[{}] must be an object {{\"instance\", \"event\", \"payload\", \"key\"}}", i));
    MachineEvent e{required_string(item, "instance"), required_string(item, "event"), Value(),
                   string_field(item, "key").value_or("")};
    if (const Value* payload = item.find("payload")) e.payload = *payload;
    return e;
}

/// POST /events: {"events": [{"instance", "event", "payload"?, "key"?}, ...]}: many sends
/// in one request, answered with each one's result (or error) in order. They commit in
/// one transaction when every instance exists; otherwise one by one, an unknown
/// instance's event getting a not_found error while the others go on.
void send_batch(Api& api, const httplib::Request& req, httplib::Response& res) {
    const Value body = body_object(req);
    const Value* list = body.find("events");
    if (!list || !list->is_array())
        throw bad_request("\"events\" must be an array of {\"instance\", \"event\", \"payload\", \"key\"}");
    std::vector<MachineEvent> events;
    for (std::size_t i = 0; i < list->as_array().size(); ++i) events.push_back(batch_event((*list)[i], i));
    const auto begin = std::chrono::steady_clock::now();
    Value::Array results;
    auto add = [&](const SendResult& r) {
        if (r.status == SendStatus::duplicate) api.metrics.count(SendStatus::duplicate);
        results.push_back(result_json(r));
    };
    try {
        for (const auto& r : api.machines.send_many(events)) add(r);
    } catch (const std::invalid_argument&) {  // an unknown instance: nothing ran yet
        for (const auto& e : events) {
            try {
                add(api.machines.send(e.instance, e.event, e.payload, e.key));
            } catch (const std::invalid_argument& unknown) {
                results.push_back(Value::object(
                    {{"error", Value::object({{"code", Value("not_found")}, {"message", Value(unknown.what())}})}}));
            }
        }
    }
    api.metrics.observe_latency(std::chrono::duration<double>(std::chrono::steady_clock::now() - begin).count());
    reply(res, 200, Value::object({{"results", Value(std::move(results))}}));
}

InstanceInfo existing(Api& api, const std::string& id) {
    auto info = api.machines.get(id);
    if (!info) throw not_found(fmt::format("no machine instance '{}'", id));
    return std::move(*info);
}

Value accepted_events(Api& api, const std::string& id) {
    Value::Array events;
    try {
        for (auto& e : api.machines.accepts(id)) events.emplace_back(std::move(e));
    } catch (const std::invalid_argument& e) {
        throw not_found(e.what());
    }
    return Value(std::move(events));
}

/// GET /instances/{id}: the instance and the events its state accepts.
void show(Api& api, const std::string& id, httplib::Response& res) {
    Value out = instance_json(existing(api, id));
    out.set("accepts", accepted_events(api, id));
    reply(res, 200, out);
}

/// GET /instances?state=S&completed=true|false&limit=N
void list(Api& api, const httplib::Request& req, httplib::Response& res) {
    ListOptions options;
    if (req.has_param("state")) options.state = req.get_param_value("state");
    const std::optional<bool> completed = bool_param(req, "completed");
    const std::size_t limit = size_param(req, "limit", 0);
    options.include_completed = completed.value_or(true);
    // Only completed ones: filtered here, so the limit applies after the filter.
    if (!completed || !*completed) options.limit = limit;
    Value::Array rows;
    for (const auto& info : api.machines.list(options)) {
        if (completed && *completed && !info.completed) continue;
        if (limit > 0 && rows.size() == limit) break;
        rows.push_back(instance_json(info));
    }
    reply(res, 200, Value::object({{"instances", Value(std::move(rows))}}));
}

/// GET /instances/{id}/audit?limit=N and GET /audit?limit=N (every instance).
void audit(Api& api, const std::string& id, const httplib::Request& req, httplib::Response& res) {
    if (!id.empty()) existing(api, id);
    Value::Array rows;
    for (const auto& e : api.machines.audit(id, size_param(req, "limit", 0))) {
        Value row = audit_json(e);
        if (id.empty()) row.set("instance", Value(e.instance));
        rows.push_back(std::move(row));
    }
    reply(res, 200, Value::object({{"audit", Value(std::move(rows))}}));
}

}  // namespace

void add_instance_routes(httplib::Server& http, Api& api) {
    http.Post("/instances", [&api](const httplib::Request& req, httplib::Response& res) { start(api, req, res); });
    http.Get("/instances", [&api](const httplib::Request& req, httplib::Response& res) { list(api, req, res); });
    http.Post("/events", [&api](const httplib::Request& req, httplib::Response& res) { send_batch(api, req, res); });
    http.Get("/audit", [&api](const httplib::Request& req, httplib::Response& res) { audit(api, {}, req, res); });
    // An id may hold any character but '/' needs percent-encoding; the longer paths
    // are tried first.
    http.Post(R"(/instances/(.+)/events)",
              [&api](const httplib::Request& req, httplib::Response& res) { send(api, req.matches[1], req, res); });
    http.Get(R"(/instances/(.+)/audit)",
             [&api](const httplib::Request& req, httplib::Response& res) { audit(api, req.matches[1], req, res); });
    http.Get(R"(/instances/(.+)/accepts)", [&api](const httplib::Request& req, httplib::Response& res) {
        const std::string id = req.matches[1];
        existing(api, id);
        reply(res, 200, Value::object({{"instance", Value(id)}, {"events", accepted_events(api, id)}}));
    });
    // A supervising workflow's tree under the instance; a plain instance is a tree alone.
    http.Get(R"(/instances/(.+)/tree)", [&api](const httplib::Request& req, httplib::Response& res) {
        const std::string id = req.matches[1];
        std::optional<TreeNode> node = api.supervisor ? api.supervisor->tree(id) : std::nullopt;
        if (!node) {
            auto info = existing(api, id);
            node = TreeNode{id, id, "", info.state, info.completed, "root", "", "", Value(), {}, info.stack};
        }
        reply(res, 200, node->to_value());
    });
    http.Get(R"(/instances/(.+))",
             [&api](const httplib::Request& req, httplib::Response& res) { show(api, req.matches[1], res); });
}

}  // namespace statenet::server
