// `statenet run -j N`: the JSONL stream through N worker threads, written in input order.
#pragma once

#include "cli/line_io.hpp"
#include "cli/outcome_writer.hpp"

#include <statenet/workflow.hpp>

#include <cstddef>

namespace statenet::cli {

/// Reads `reader` on its own thread, runs records on `workers` threads and writes their
/// outcomes to `writer` on the calling thread in input order. At most 256 records per
/// worker are between the reader and the writer, so a slow writer holds the reader back.
void run_parallel(const Workflow& workflow, const RunOptions& options, LineReader& reader, OutcomeWriter& writer,
                  std::size_t workers);

}  // namespace statenet::cli
