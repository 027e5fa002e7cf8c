// NamedError: a resource failure that carries its catalogue name (HttpError, Timeout,
// CircuitOpen, ...), so the Lua binding raises { name = ..., message = ... } and
// `retry` / `on_error` can match it.
#pragma once

#include <stdexcept>
#include <string>
#include <utility>

namespace statenet::detail {

class NamedError : public std::runtime_error {
public:
    NamedError(std::string name, const std::string& message) : std::runtime_error(message), name_(std::move(name)) {}
    const std::string& name() const noexcept { return name_; }

private:
    std::string name_;
};

}  // namespace statenet::detail
