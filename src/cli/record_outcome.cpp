// One JSONL input line through a workflow: what becomes of it, ready to be written.
#include "cli/record_outcome.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <optional>
#include <utility>

namespace statenet::cli {

namespace {

Outcome failed(ErrorInfo error, const char* input_key, Value input) {
    Outcome outcome;
    outcome.kind = Outcome::Kind::failed;
    outcome.error = std::move(error);
    outcome.input_key = input_key;
    outcome.input = std::move(input);
    return outcome;
}

/// Parses one input line into `record`, or says why it is not a record.
std::optional<Outcome> parse_record(std::string_view line, Value& record) {
    try {
        record = Value::from_json(line);
    } catch (const JsonError& e) {
        return failed({"InvalidJson", e.what(), ""}, "raw", Value(line));
    }
    // The engine would run a scalar as an empty record; the user would never see why.
    if (!record.is_object() && !record.is_array()) {
        std::string message = fmt::format("a record must be a JSON object (got {})", type_name(record.type()));
        return failed({"InvalidRecord", std::move(message), ""}, "record", std::move(record));
    }
    return std::nullopt;
}

}  // namespace

bool is_blank(std::string_view line) {
    return std::all_of(line.begin(), line.end(), [](char c) { return c == ' ' || c == '\t' || c == '\r'; });
}

Outcome process_line(const Workflow& workflow, std::string_view line, const RunOptions& options) {
    Outcome outcome;
    Result result;
    const auto first = line.find_first_not_of(" \t\r");
    if (first != std::string_view::npos && line[first] == '{') {
        // The fast path: the record stays JSON text except for the fields Lua reads.
        try {
            result = workflow.process_json(line, outcome.json, options);
        } catch (const JsonError& e) {
            return failed({"InvalidJson", e.what(), ""}, "raw", Value(line));
        }
    } else {
        Value record;
        if (auto rejected = parse_record(line, record)) return std::move(*rejected);
        result = workflow.process(std::move(record), options);
        if (result.ok && result.emit) outcome.json = result.data.to_json();
    }
    if (!result.ok) {
        // The record moved into the run; failures are rare, so parse its line again
        // for the errors sink rather than copy every record.
        Value input;
        parse_record(line, input);
        return failed(result.error.value_or(ErrorInfo{"Failed", "record failed", ""}), "record", std::move(input));
    }
    if (result.emit) outcome.kind = Outcome::Kind::emitted;
    return outcome;
}

}  // namespace statenet::cli
