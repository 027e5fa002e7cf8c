// Writes record outcomes in the order given: emitted data to OUT, failures to the errors sink.
#pragma once

#include "cli/line_io.hpp"
#include "cli/record_outcome.hpp"
#include "cli/stream_run.hpp"

#include <cstddef>
#include <optional>
#include <string>

namespace statenet::cli {

class OutcomeWriter {
public:
    /// Throws usage_error when a file cannot be opened.
    OutcomeWriter(const std::string& output, const std::string& errors);

    /// `line` is the 1-based input line the outcome came from.
    void write(std::size_t line, Outcome&& outcome);
    void flush();
    /// Throws std::runtime_error on a write or close error.
    void close();
    const StreamCounts& counts() const noexcept { return counts_; }

private:
    void add_failure(std::size_t line, Outcome&& outcome);

    BufferedWriter output_;
    std::optional<BufferedWriter> errors_;  ///< empty: one stderr line per failure
    StreamCounts counts_;
};

}  // namespace statenet::cli
