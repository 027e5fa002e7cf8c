// Reading requests and writing JSON replies for the machine HTTP API: the one place
// that turns bad input into a JSON error with its status code.
#pragma once

#include <statenet/value.hpp>

#include <httplib.h>

#include <cstddef>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace statenet::server {

/// A request the API refuses: becomes `{"error":{"code","message"}}` with `status`.
class HttpError : public std::runtime_error {
public:
    HttpError(int status, std::string code, const std::string& message)
        : std::runtime_error(message), status_(status), code_(std::move(code)) {}
    int status() const noexcept { return status_; }
    const std::string& code() const noexcept { return code_; }

private:
    int status_;
    std::string code_;
};

/// 400 bad_request.
HttpError bad_request(const std::string& message);
/// 404 not_found.
HttpError not_found(const std::string& message);

/// The body as a JSON object (400 when it is not JSON or not an object). An empty body
/// is an empty object.
Value body_object(const httplib::Request& req);

/// A string member of `body`: absent → nullopt; present but not a string → 400.
std::optional<std::string> string_field(const Value& body, std::string_view name);
/// A required string member: absent, empty or not a string → 400.
std::string required_string(const Value& body, std::string_view name);

/// A query parameter as a non-negative integer (400 when it is not one); `fallback` when absent.
std::size_t size_param(const httplib::Request& req, const char* name, std::size_t fallback);
/// A query parameter as true/false (400 otherwise); nullopt when absent.
std::optional<bool> bool_param(const httplib::Request& req, const char* name);

void reply(httplib::Response& res, int status, const Value& body);
void reply_error(httplib::Response& res, int status, std::string_view code, std::string_view message);

}  // namespace statenet::server
