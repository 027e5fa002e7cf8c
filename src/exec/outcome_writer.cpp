// Writes record outcomes in the order given: emitted data to the sink, failures to the errors
// file, counts, and a checkpoint every batch of records.
#include "exec/outcome_writer.hpp"

#include <algorithm>
#include <utility>

namespace statenet::detail {

OutcomeWriter::OutcomeWriter(RecordSink& sink, const StreamOptions& options, std::string input)
    : sink_(sink),
      on_failure_(options.on_failure),
      resume_(options.resume),
      batch_size_(std::max<std::size_t>(options.batch_size, 1)) {
    if (const auto& resumed = sink.resumed()) {
        checkpoint_ = *resumed;
        resumed_ = checkpoint_.total();
    }
    checkpoint_.input = std::move(input);
    finished_ = resumed_;
    position_ = checkpoint_.offset;
    if (!options.errors.empty())
        errors_ = open_output(options.errors, sink.resumed() ? std::optional(checkpoint_.errors_size) : std::nullopt);
}

void OutcomeWriter::write(Outcome& outcome) {
    checkpoint_.offset = outcome.end;
    checkpoint_.line = outcome.end_line;
    if (outcome.kind == Outcome::Kind::emitted) {
        try {
            if (sink_.encodes()) sink_.write_encoded(outcome.encoded);
            else sink_.write(std::move(outcome.data));
            for (Value& more : outcome.more) {
                if (sink_.encodes()) sink_.write_encoded(sink_.encode(more));
                else sink_.write(std::move(more));
            }
        } catch (const RecordRefused& e) {
            fail(outcome, {e.name(), e.what(), ""}, "record", std::move(outcome.data));
        }
    }
    switch (outcome.kind) {
    case Outcome::Kind::emitted: ++checkpoint_.emitted; break;
    case Outcome::Kind::excluded: ++checkpoint_.excluded; break;
    case Outcome::Kind::parked:
        ++checkpoint_.parked;
        if (parked_runs_.size() < StreamStats::max_listed_parked) parked_runs_.push_back(std::move(outcome.run_id));
        break;
    case Outcome::Kind::failed:
        add_failure(outcome);
        ++checkpoint_.failed;
        break;
    }
    finished_.store(checkpoint_.total(), std::memory_order_relaxed);
    position_.store(outcome.end, std::memory_order_relaxed);
    if (++since_commit_ >= batch_size_) commit(false);
}

void OutcomeWriter::add_failure(Outcome& outcome) {
    const ErrorInfo& error = outcome.error;
    if (on_failure_) on_failure_(outcome.line, error);
    if (!errors_) return;
    // A record rejected before entering any state has no state: null, not "".
    Value state = error.state.empty() ? Value() : Value(error.state);
    Value entry = Value::object({
        {"line", outcome.line},
        {"error", Value::object({{"name", error.name}, {"message", error.message}, {"state", std::move(state)}})},
    });
    if (outcome.input_json.empty()) {
        entry.set(outcome.input_key, std::move(outcome.input));
        errors_->write_line(entry.to_json());
        return;
    }
    // The record's own JSON text goes in as it is, after the other members.
    std::string line = entry.to_json();
    line.pop_back();
    line += ",\"";
    line += outcome.input_key;
    line += "\":";
    line += outcome.input_json;
    line += '}';
    errors_->write_line(line);
}

void OutcomeWriter::commit(bool done) {
    since_commit_ = 0;
    // The errors file first: a crash before the sink's commit leaves the old checkpoint,
    // and a resume cuts both back to it.
    if (errors_) {
        if (done) errors_->close();
        if (resume_) checkpoint_.errors_size = errors_->sync_point();
    }
    checkpoint_.done = done;
    if (done) sink_.close(checkpoint_);
    else sink_.commit(checkpoint_);
}

void OutcomeWriter::flush() {
    sink_.flush();
    if (errors_) errors_->flush();
}

void OutcomeWriter::finish() { commit(true); }

StreamStats OutcomeWriter::stats() const {
    StreamStats stats;
    stats.emitted = checkpoint_.emitted;
    stats.excluded = checkpoint_.excluded;
    stats.failed = checkpoint_.failed;
    stats.parked = checkpoint_.parked;
    stats.parked_runs = parked_runs_;
    stats.total = checkpoint_.total();
    stats.resumed = resumed_;
    return stats;
}

}  // namespace statenet::detail
