// `statenet run -i/-o`: a JSONL stream of records through a workflow, every record accounted for.
#pragma once

#include <statenet/workflow.hpp>

#include <chrono>
#include <cstddef>
#include <string>

namespace statenet::cli {

struct StreamOptions {
    std::string input = "-";   ///< JSONL file, "-" = stdin
    std::string output = "-";  ///< JSONL file, "-" = stdout
    std::string errors;        ///< JSONL file of failed records; empty = one line each on stderr
    std::size_t workers = 1;   ///< threads running records; 0 = one per hardware thread
    RunOptions run;
};

/// Every non-blank input line ends up in exactly one of the three counts.
struct StreamCounts {
    std::size_t emitted = 0;
    std::size_t excluded = 0;  ///< finished in a state with emit = false
    std::size_t failed = 0;    ///< failed in the workflow, or not a JSON record at all
    std::chrono::duration<double> elapsed{0};

    std::size_t total() const noexcept { return emitted + excluded + failed; }
};

/// Processes the input's records on `workers` threads and writes each emitted record's
/// data as one JSON line, in input order. Throws usage_error when a file cannot be opened and std::runtime_error on
/// an I/O error.
StreamCounts run_stream(const Workflow& workflow, const StreamOptions& options);

/// `statenet: N records: E emitted, X excluded, F failed in 0.12s (12345 records/s)` on stderr.
void print_summary(const StreamCounts& counts);

}  // namespace statenet::cli
