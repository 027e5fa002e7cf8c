// The error catalogue's names and messages, and the located diagnostics of a failed load.
#include <statenet/error.hpp>

#include <utility>

namespace statenet {

namespace {

std::string join_diagnostics(const std::vector<Diagnostic>& diagnostics) {
    std::string text;
    for (const auto& diagnostic : diagnostics) {
        if (!text.empty()) {
            text += '\n';
        }
        text += diagnostic.str();
    }
    return text;
}

}  // namespace

std::string_view error_name(ErrorCode code) noexcept {
    switch (code) {
#define STATENET_ERROR_NAME(name, message) \
    case ErrorCode::name: return #name;
        STATENET_ERRORS(STATENET_ERROR_NAME)
#undef STATENET_ERROR_NAME
    }
    // Only a value cast from outside the catalogue gets here.
    return "UnknownError";
}

std::string_view error_message(ErrorCode code) noexcept {
    switch (code) {
#define STATENET_ERROR_MESSAGE(name, message) \
    case ErrorCode::name: return message;
        STATENET_ERRORS(STATENET_ERROR_MESSAGE)
#undef STATENET_ERROR_MESSAGE
    }
    return "unknown error";
}

std::string Diagnostic::str() const {
    std::string text = file;
    if (line > 0) {
        if (!text.empty()) {
            text += ':';
        }
        text += std::to_string(line);
        if (column > 0) {
            text += ':';
            text += std::to_string(column);
        }
    }
    if (!text.empty()) {
        text += ": ";
    }
    text += message;
    return text;
}

LoadError::LoadError(std::vector<Diagnostic> diagnostics)
    : std::runtime_error(join_diagnostics(diagnostics)), diagnostics_(std::move(diagnostics)) {}

}  // namespace statenet
