// The error catalogue: stable error names that results, history, retry and on_error use.
#pragma once

#include <statenet/export.hpp>

#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace statenet {

// X(name, default message). The names are stable: they are what `retry.errors`,
// `on_error.errors` and history match and store.
#define STATENET_ERRORS(X)                                          \
    X(ValidationFailed, "validation failed")                        \
    X(SchemaViolation, "record does not match the state's schema")  \
    X(NoTransition, "no valid transition")                          \
    X(MaxTransitions, "too many transitions")                       \
    X(Timeout, "record timed out")                                  \
    X(OutOfMemory, "Lua memory limit reached")                      \
    X(LuaError, "error in Lua function")                            \
    X(ResourceError, "resource error")                              \
    X(ResourceTimeout, "no pooled resource connection came free")   \
    X(Conflict, "concurrent modification")                          \
    X(NotFound, "reference record not found")                       \
    X(PushFailed, "push to sub-network failed")                     \
    X(InvalidArgument, "bad argument to a resource call")           \
    X(DimensionMismatch, "vector has the wrong dimension")          \
    X(PathEscape, "path leads outside the files resource's root")   \
    X(FileNotFound, "no such file under the files resource's root") \
    X(HttpError, "HTTP request failed")                             \
    X(CircuitOpen, "circuit breaker is open")                       \
    X(RateLimited, "rate limit would be exceeded")                  \
    X(InvalidOutput, "model output does not match the format")      \
    X(ParallelFailed, "too few parallel branches finished")         \
    X(MapFailed, "more map items failed than tolerated")            \
    X(Cancelled, "another branch decided the join")

enum class ErrorCode {
#define STATENET_ERROR_ENUM(name, message) name,
    STATENET_ERRORS(STATENET_ERROR_ENUM)
#undef STATENET_ERROR_ENUM
};

/// The stable name of an error code ("ValidationFailed", ...).
STATENET_API std::string_view error_name(ErrorCode code) noexcept;
/// The default message of an error code.
STATENET_API std::string_view error_message(ErrorCode code) noexcept;

/// Why a record failed: a catalogue name or a user name raised from Lua with
/// `error({ name = ..., message = ... })`, the message, and the state it failed in
/// (`network/state`).
struct ErrorInfo {
    std::string name;
    std::string message;
    std::string state;
};

/// One problem in a workflow file, located as file:line:column.
struct STATENET_API Diagnostic {
    std::string file;
    int line = 0;
    int column = 0;
    std::string message;
    /// "file:line:col: message" (line/column omitted when unknown).
    std::string str() const;
};

/// Thrown when a workflow fails to load; holds every problem found, not just the first.
class STATENET_API LoadError : public std::runtime_error {
public:
    explicit LoadError(std::vector<Diagnostic> diagnostics);
    const std::vector<Diagnostic>& diagnostics() const noexcept { return diagnostics_; }

private:
    std::vector<Diagnostic> diagnostics_;
};

}  // namespace statenet
