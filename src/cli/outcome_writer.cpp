// Writes record outcomes in the order given: emitted data to OUT, failures to the errors sink.
#include "cli/outcome_writer.hpp"

#include <fmt/format.h>

#include <cstdio>
#include <utility>

namespace statenet::cli {

OutcomeWriter::OutcomeWriter(const std::string& output, const std::string& errors) : output_(output) {
    if (!errors.empty()) errors_.emplace(errors);
}

void OutcomeWriter::write(std::size_t line, Outcome&& outcome) {
    switch (outcome.kind) {
    case Outcome::Kind::emitted:
        output_.write_line(outcome.json);
        ++counts_.emitted;
        break;
    case Outcome::Kind::excluded:
        ++counts_.excluded;
        break;
    case Outcome::Kind::failed:
        add_failure(line, std::move(outcome));
        ++counts_.failed;
        break;
    }
}

void OutcomeWriter::add_failure(std::size_t line, Outcome&& outcome) {
    const ErrorInfo& error = outcome.error;
    if (!errors_) {
        const std::string text = fmt::format("statenet: record {} failed: {}: {}\n", line, error.name, error.message);
        std::fwrite(text.data(), 1, text.size(), stderr);
        return;
    }
    // A record rejected before entering any state has no state: null, not "".
    Value state = error.state.empty() ? Value() : Value(error.state);
    Value entry = Value::object({
        {"line", static_cast<long long>(line)},
        {"error", Value::object({{"name", error.name}, {"message", error.message}, {"state", std::move(state)}})},
    });
    entry.set(outcome.input_key, std::move(outcome.input));
    errors_->write_line(entry.to_json());
}

void OutcomeWriter::flush() {
    output_.flush();
    if (errors_) errors_->flush();
}

void OutcomeWriter::close() {
    output_.close();
    if (errors_) errors_->close();
}

}  // namespace statenet::cli
