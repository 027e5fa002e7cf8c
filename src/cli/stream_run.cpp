// `statenet run -i/-o`: a JSONL stream of records through a workflow, every record accounted for.
#include "cli/stream_run.hpp"

#include "cli/line_io.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstdio>
#include <optional>
#include <utility>

namespace statenet::cli {

namespace {

/// Where failed records go: a JSONL file when --errors names one, else stderr lines.
class FailureLog {
public:
    explicit FailureLog(const std::string& path) {
        if (!path.empty()) file_.emplace(path);
    }

    /// `input_key` is "record" for a parsed input and "raw" for a line that is not JSON.
    void add(std::size_t line, const ErrorInfo& error, const char* input_key, Value input) {
        if (!file_) {
            const std::string text =
                fmt::format("statenet: record {} failed: {}: {}\n", line, error.name, error.message);
            std::fwrite(text.data(), 1, text.size(), stderr);
            return;
        }
        // A record rejected before entering any state has no state: null, not "".
        Value state = error.state.empty() ? Value() : Value(error.state);
        Value entry = Value::object({
            {"line", static_cast<long long>(line)},
            {"error", Value::object({{"name", error.name}, {"message", error.message}, {"state", std::move(state)}})},
        });
        entry.set(input_key, std::move(input));
        file_->write_line(entry.to_json());
    }

    void flush() {
        if (file_) file_->flush();
    }
    void close() {
        if (file_) file_->close();
    }

private:
    std::optional<BufferedWriter> file_;
};

bool is_blank(std::string_view line) {
    return std::all_of(line.begin(), line.end(), [](char c) { return c == ' ' || c == '\t' || c == '\r'; });
}

/// An input line that is not a record, with what the errors sink shows of it.
struct Rejected {
    ErrorInfo error;
    const char* input_key;  ///< "raw" for text that is not JSON, "record" for a parsed value
    Value input;
};

/// Parses one input line into `record`, or says why it is not a record.
std::optional<Rejected> parse_record(std::string_view line, Value& record) {
    try {
        record = Value::from_json(line);
    } catch (const JsonError& e) {
        return Rejected{{"InvalidJson", e.what(), ""}, "raw", Value(line)};
    }
    // The engine would run a scalar as an empty record; the user would never see why.
    if (!record.is_object() && !record.is_array()) {
        std::string message = fmt::format("a record must be a JSON object (got {})", type_name(record.type()));
        return Rejected{{"InvalidRecord", std::move(message), ""}, "record", std::move(record)};
    }
    return std::nullopt;
}

}  // namespace

StreamCounts run_stream(const Workflow& workflow, const StreamOptions& options) {
    const auto started = std::chrono::steady_clock::now();
    LineReader reader(options.input);
    BufferedWriter output(options.output);
    FailureLog failures(options.errors);
    // Flush before waiting for more input, so a pipe consumer sees records promptly.
    reader.before_read([&] {
        output.flush();
        failures.flush();
    });

    StreamCounts counts;
    std::string_view line;
    while (reader.next(line)) {
        if (is_blank(line)) continue;
        Value record;
        if (auto rejected = parse_record(line, record)) {
            failures.add(reader.line_number(), rejected->error, rejected->input_key, std::move(rejected->input));
            ++counts.failed;
            continue;
        }
        Result result = workflow.process(std::move(record), options.run);
        if (!result.ok) {
            // The record moved into the run; failures are rare, so parse its line again
            // for the errors sink rather than copy every record.
            Value input;
            parse_record(line, input);
            failures.add(reader.line_number(), result.error.value_or(ErrorInfo{"Failed", "record failed", ""}),
                         "record", std::move(input));
            ++counts.failed;
        } else if (!result.emit) {
            ++counts.excluded;
        } else {
            output.write_line(result.data.to_json());
            ++counts.emitted;
        }
    }
    output.close();
    failures.close();
    counts.elapsed = std::chrono::steady_clock::now() - started;
    return counts;
}

void print_summary(const StreamCounts& counts) {
    const double seconds = counts.elapsed.count();
    const double rate = seconds > 0 ? static_cast<double>(counts.total()) / seconds : 0.0;
    const std::string text = fmt::format("statenet: {} records: {} emitted, {} excluded, {} failed in {:.2f}s ({:.0f} records/s)\n",
                                         counts.total(), counts.emitted, counts.excluded, counts.failed, seconds, rate);
    std::fwrite(text.data(), 1, text.size(), stderr);
}

}  // namespace statenet::cli
