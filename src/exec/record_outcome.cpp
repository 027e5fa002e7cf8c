// One input record through a workflow: what becomes of it, ready to be written.
#include "exec/record_outcome.hpp"

#include <utility>

namespace statenet::detail {

namespace {

/// Parses the record's text into `record`, or fails `outcome` and says why not.
bool parse_record(const RawRecord& raw, Value& record, Outcome& outcome) {
    auto failure = raw.parser->parse(raw.text, record);
    if (!failure) return true;
    if (failure->show_raw) fail(outcome, std::move(failure->error), "raw", Value(raw.text));
    else fail(outcome, std::move(failure->error), "record", std::move(record));
    return false;
}

/// `text` without the JSON whitespace around it.
std::string_view trimmed(std::string_view text) {
    const auto first = text.find_first_not_of(" \t\r\n");
    if (first == std::string_view::npos) return {};
    return text.substr(first, text.find_last_not_of(" \t\r\n") - first + 1);
}

/// A JSON object's text that may take the fast path: it stays text except for the
/// fields Lua reads, and the output copies the fields the run did not change.
bool runs_as_json(const RawRecord& raw, const RecordSink& sink) {
    if (raw.parser != &json_record_parser() || !sink.takes_json()) return false;
    const std::string_view text = trimmed(raw.text);
    return !text.empty() && text.front() == '{';
}

/// A breadth-first record that finished in several branches: each branch whose end
/// state emits is an output record, primary first; the sink encodes the others when
/// they are written.
void emit_branches(Result& result, const RecordSink& sink, Outcome& outcome) {
    for (Branch& b : result.branches) {
        if (!b.emit) continue;
        if (outcome.kind == Outcome::Kind::emitted) {
            outcome.more.push_back(std::move(b.data));
            continue;
        }
        outcome.kind = Outcome::Kind::emitted;
        if (!sink.encodes()) {
            outcome.data = std::move(b.data);
            continue;
        }
        try {
            outcome.encoded = sink.encode(b.data);
        } catch (const RecordRefused& e) {
            return fail(outcome, {e.name(), e.what(), ""}, "record", std::move(b.data));
        }
    }
}

}  // namespace

void fail(Outcome& outcome, ErrorInfo error, const char* input_key, Value input) {
    outcome.kind = Outcome::Kind::failed;
    outcome.error = std::move(error);
    outcome.input_key = input_key;
    outcome.input = std::move(input);
    outcome.input_json.clear();
    outcome.encoded.clear();
    outcome.data = Value();
}

void process_record(Runner& runner, RawRecord& raw, const RunOptions& options, const RecordSink& sink, Outcome& outcome,
                    RunObserver* observer) {
    outcome.kind = Outcome::Kind::excluded;
    outcome.encoded.clear();
    outcome.data = Value();
    outcome.more.clear();
    outcome.input_key = "record";
    outcome.input = Value();
    outcome.input_json.clear();
    outcome.line = raw.line;
    outcome.end_line = raw.end_line;
    outcome.end = raw.end;
    if (raw.error) {
        fail(outcome, std::move(*raw.error), "raw", Value(std::move(raw.text)));
        return;
    }
    Result result;
    RunOptions run = options;
    run.position = static_cast<std::int64_t>(raw.line);  // kept in execution history
    // Breadth-first records may end in several branches: they take the Value path.
    if (runner.model().strategy != Strategy::breadth_first && runs_as_json(raw, sink)) {
        try {
            result = runner.run_json(raw.text, outcome.encoded, run, /*lean=*/true, observer);
        } catch (const JsonError& e) {
            fail(outcome, {"InvalidJson", e.what(), ""}, "raw", Value(raw.text));
            return;
        }
        if (!result.ok) {
            fail(outcome, result.error.value_or(ErrorInfo{"Failed", "record failed", ""}), "record", Value());
            // The record is valid JSON text: the errors file shows it as it came, unless
            // it spans lines (a JSON array's element), which a JSONL line cannot hold.
            const std::string_view text = trimmed(raw.text);
            if (text.find_first_of("\n\r") == std::string_view::npos) outcome.input_json.assign(text);
            else parse_record(raw, outcome.input, outcome);
        } else if (result.emit) {
            outcome.kind = Outcome::Kind::emitted;
        }
        return;
    }
    Value record;
    // A record the reader built is kept for the errors file; one parsed from text is
    // parsed again in the rare case it fails, rather than copied every time.
    Value kept;
    if (raw.value) {
        record = std::move(*raw.value);
        kept = record;
    } else if (!parse_record(raw, record, outcome)) {
        return;
    }
    result = runner.run(std::move(record), run, observer);
    if (!result.ok) {
        if (!raw.value) parse_record(raw, kept, outcome);
        fail(outcome, result.error.value_or(ErrorInfo{"Failed", "record failed", ""}), "record", std::move(kept));
        return;
    }
    if (result.branches.size() > 1) return emit_branches(result, sink, outcome);
    if (!result.emit) return;
    outcome.kind = Outcome::Kind::emitted;
    if (!sink.encodes()) {
        outcome.data = std::move(result.data);
        return;
    }
    try {
        outcome.encoded = sink.encode(result.data);
    } catch (const RecordRefused& e) {
        fail(outcome, {e.name(), e.what(), ""}, "record", std::move(result.data));
    }
    return;
}

}  // namespace statenet::detail
