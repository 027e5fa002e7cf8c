// A stream's checkpoint: how far the input was committed to the sink, and the counts so far.
#pragma once

#include <statenet/value.hpp>

#include <cstdint>
#include <optional>
#include <string>

namespace statenet::detail {

/// Everything a resumed run needs to continue after the last committed record.
struct Checkpoint {
    std::string input;              ///< which input it belongs to (path, and query for SQLite)
    std::uint64_t offset = 0;       ///< input position after the last committed record
    std::uint64_t line = 0;         ///< the input line (row) that record ended on
    std::uint64_t output_size = 0;  ///< file sinks: bytes of output that are committed
    std::uint64_t errors_size = 0;  ///< bytes of the errors file that are committed
    std::uint64_t emitted = 0;
    std::uint64_t excluded = 0;
    std::uint64_t failed = 0;
    std::uint64_t parked = 0;  ///< waiting for a signal (`wait` states)
    Value sink_state;          ///< what the sink needs to append (a CSV header, ...)
    bool done = false;         ///< the run finished

    std::uint64_t total() const noexcept { return emitted + excluded + failed + parked; }
    Value to_value() const;
    /// Throws std::runtime_error naming `where` when `value` is not a checkpoint.
    static Checkpoint from_value(const Value& value, const std::string& where);
};

/// The checkpoint stored in `path`; nullopt when there is none yet.
std::optional<Checkpoint> read_checkpoint_file(const std::string& path);
/// Replaces `path` atomically (write a temporary file, then rename it over).
void write_checkpoint_file(const std::string& path, const Checkpoint& checkpoint);

}  // namespace statenet::detail
