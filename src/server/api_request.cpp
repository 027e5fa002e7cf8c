// Reading requests and writing JSON replies for the machine HTTP API.
#include "server/api_request.hpp"

#include <fmt/format.h>

#include <charconv>

namespace statenet::server {

HttpError bad_request(const std::string& message) { return HttpError(400, "bad_request", message); }
HttpError not_found(const std::string& message) { return HttpError(404, "not_found", message); }

Value body_object(const httplib::Request& req) {
    if (req.body.find_first_not_of(" \t\r\n") == std::string::npos) return Value::object();
    Value body;
    try {
        body = Value::from_json(req.body);
    } catch (const JsonError& e) {
        throw bad_request(fmt::format("the body is not valid JSON: {}", e.what()));
    }
    if (!body.is_object()) throw bad_request("the body must be a JSON object");
    return body;
}

std::optional<std::string> string_field(const Value& body, std::string_view name) {
    const Value* v = body.find(name);
    if (!v || v->is_null()) return std::nullopt;
    if (!v->is_string()) throw bad_request(fmt::format("\"{}\" must be a string", name));
    return v->as_string();
}

std::string required_string(const Value& body, std::string_view name) {
    auto v = string_field(body, name);
    if (!v || v->empty()) throw bad_request(fmt::format("the body needs a non-empty string \"{}\"", name));
    return *v;
}

std::size_t size_param(const httplib::Request& req, const char* name, std::size_t fallback) {
    if (!req.has_param(name)) return fallback;
    const std::string text = req.get_param_value(name);
    std::size_t n = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
    if (ec != std::errc() || end != text.data() + text.size())
        throw bad_request(fmt::format("query parameter '{}' must be a non-negative integer, not '{}'", name, text));
    return n;
}

std::optional<bool> bool_param(const httplib::Request& req, const char* name) {
    if (!req.has_param(name)) return std::nullopt;
    const std::string text = req.get_param_value(name);
    if (text == "true" || text == "1") return true;
    if (text == "false" || text == "0") return false;
    throw bad_request(fmt::format("query parameter '{}' must be true or false, not '{}'", name, text));
}

void reply(httplib::Response& res, int status, const Value& body) {
    res.status = status;
    res.set_content(body.to_json() + "\n", "application/json");
}

void reply_error(httplib::Response& res, int status, std::string_view code, std::string_view message) {
    reply(res, status, Value::object({{"error", Value::object({{"code", Value(code)}, {"message", Value(message)}})}}));
}

}  // namespace statenet::server
