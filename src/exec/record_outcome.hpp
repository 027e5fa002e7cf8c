// One input record through a workflow: what becomes of it, ready to be written.
#pragma once

#include "io/record_sink.hpp"
#include "io/record_source.hpp"

#include "exec/runner.hpp"

#include <statenet/workflow.hpp>

#include <cstdint>
#include <string>

namespace statenet::detail {

/// What one input record turned into.
struct Outcome {
    enum class Kind { emitted, excluded, failed };
    Kind kind = Kind::excluded;
    std::uint64_t line = 0;            ///< where the record started in the input
    std::uint64_t end_line = 0;        ///< where it ended (for the checkpoint)
    std::uint64_t end = 0;             ///< input position after it (for the checkpoint)
    std::string encoded;               ///< emitted, for a sink that encodes on workers
    Value data;                        ///< emitted, for a sink that takes values
    std::vector<Value> more;           ///< emitted: the other breadth-first branches' data, written after it
    ErrorInfo error;                   ///< why it failed
    const char* input_key = "record";  ///< "raw" for input text that is not a record
    Value input;                       ///< what the errors file shows of a failed record
    std::string input_json;            ///< or that, as JSON text on one line (when not empty)
};

/// Turns `outcome` into a failure; `input` is what the errors file shows under `input_key`.
void fail(Outcome& outcome, ErrorInfo error, const char* input_key, Value input);

/// Parses the record if needed, runs it on `runner` (the calling thread's Lua VM) and
/// encodes emitted data for `sink` into `outcome`, which is reset first (its buffers are
/// kept, so a reused Outcome allocates nothing new); never throws for bad input.
/// `observer` (when given) replaces the runner's own for this record.
void process_record(Runner& runner, RawRecord& record, const RunOptions& options, const RecordSink& sink,
                    Outcome& outcome, RunObserver* observer = nullptr);

}  // namespace statenet::detail
