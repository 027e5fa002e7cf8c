// Workflow::process_stream and `statenet run -i/-o`: a source's records through a workflow into a
// sink, on N workers over bounded queues, every record accounted for.
#pragma once

#include <statenet/stream.hpp>
#include <statenet/workflow.hpp>

#include <memory>

namespace statenet::detail {

class RunnerPool;

/// Runs on `runners` (one version of the workflow). Reads `source` on its own thread (or the calling thread with one
/// worker), runs records on `options.workers` threads, and writes outcomes in input order (unless !options.ordered) on
/// the calling thread. At most a few batches per worker are between the reader and the writer, so a slow sink holds the
/// reader back.
StreamStats run_stream(const std::shared_ptr<RunnerPool>& runners, const Source& source, const Sink& sink,
                       const StreamOptions& options);

}  // namespace statenet::detail
