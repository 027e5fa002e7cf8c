// One JSONL input line through a workflow: what becomes of it, ready to be written.
#pragma once

#include <statenet/workflow.hpp>

#include <string>
#include <string_view>

namespace statenet::cli {

/// What one non-blank input line turned into.
struct Outcome {
    enum class Kind { emitted, excluded, failed };
    Kind kind = Kind::excluded;
    std::string json;                  ///< the emitted record's data, one JSON line without "\n"
    ErrorInfo error;                   ///< why it failed
    const char* input_key = "record";  ///< "raw" for text that is not JSON, "record" for a parsed value
    Value input;                       ///< what the errors sink shows of a failed line
};

bool is_blank(std::string_view line);

/// Parses `line` and runs it through `workflow`; never throws for bad input.
Outcome process_line(const Workflow& workflow, std::string_view line, const RunOptions& options);

}  // namespace statenet::cli
