// File sinks: JSONL, JSON array, CSV and text output, with a checkpoint file beside them.
#include "io/byte_output.hpp"
#include "io/csv.hpp"
#include "io/record_sink.hpp"

#include <fmt/format.h>

#include <string>
#include <vector>

namespace statenet::detail {

namespace {

class FileSink final : public RecordSink {
public:
    FileSink(const Sink& sink, RecordFormat format, const SinkSetup& setup)
        : format_(format), delimiter_(sink.csv_delimiter), text_field_(sink.text_field), setup_(setup) {
        if (setup.resume) {
            if (sink.path == "-") throw std::invalid_argument("cannot resume into standard output (use -o FILE)");
            resumed_ = read_checkpoint_file(setup.checkpoint);
            if (resumed_) check_checkpoint_input(*resumed_, setup, setup.checkpoint);
        }
        output_ = open_output(sink.path, resumed_ ? std::optional(resumed_->output_size) : std::nullopt);
        if (resumed_) restore(resumed_->sink_state);
    }

    bool encodes() const noexcept override { return format_ != RecordFormat::csv; }
    bool takes_json() const noexcept override {
        return format_ == RecordFormat::jsonl || format_ == RecordFormat::json;
    }

    std::string encode(const Value& data) const override {
        if (format_ != RecordFormat::text) return data.to_json();
        const Value* field = data.find(text_field_);
        if (!field)
            throw RecordRefused("MissingField",
                                fmt::format("the record has no field '{}' to write as text", text_field_));
        return field->is_string() ? field->as_string() : field->to_json();
    }

    void write_encoded(std::string_view text) override {
        if (format_ == RecordFormat::json) {
            output_->write(started_ ? ",\n" : "[\n");
            output_->write(text);
        } else {
            output_->write_line(text);
        }
        started_ = true;
    }

    void write(Value&& data) override {
        if (encodes()) return write_encoded(encode(data));
        write_csv(data);
    }

    void flush() override { output_->flush(); }

    void commit(Checkpoint& checkpoint) override {
        if (!setup_.resume) return;
        checkpoint.output_size = output_->sync_point();
        checkpoint.sink_state = state();
        write_checkpoint_file(setup_.checkpoint, checkpoint);
    }

    void close(Checkpoint& checkpoint) override {
        if (format_ == RecordFormat::json) output_->write(started_ ? "\n]\n" : "[]\n");
        output_->close();
        commit(checkpoint);
    }

private:
    void write_csv(const Value& data) {
        if (!data.is_object()) throw RecordRefused("CsvError", "only objects can be written as CSV rows");
        const auto& members = data.as_object();
        if (!started_) {
            std::string line;
            for (const auto& member : members) {
                if (!line.empty()) line += delimiter_;
                append_csv_field(line, Value(member.first), delimiter_);
                header_.push_back(member.first);
            }
            output_->write_line(line);
            started_ = true;
        }
        row_.assign(header_.size(), nullptr);
        for (const auto& [key, value] : members) {
            std::size_t i = 0;
            while (i < header_.size() && header_[i] != key) ++i;
            if (i == header_.size())
                throw RecordRefused(
                    "CsvError",
                    fmt::format("field '{}' is not a column of the CSV output (the first record's fields are)", key));
            row_[i] = &value;
        }
        std::string line;
        for (std::size_t i = 0; i < row_.size(); ++i) {
            if (i > 0) line += delimiter_;
            if (row_[i]) append_csv_field(line, *row_[i], delimiter_);
        }
        output_->write_line(line);
    }

    /// What a resumed run needs: whether output has started, and the CSV header.
    Value state() const {
        Value columns = Value::array();
        for (const auto& name : header_) columns.push_back(Value(name));
        return Value::object({{"started", started_}, {"columns", std::move(columns)}});
    }

    void restore(const Value& state) {
        started_ = state["started"].is_bool() && state["started"].as_bool();
        if (state["columns"].is_array())
            for (const auto& name : state["columns"].as_array())
                if (name.is_string()) header_.push_back(name.as_string());
    }

    RecordFormat format_;
    char delimiter_;
    std::string text_field_;
    SinkSetup setup_;
    std::unique_ptr<ByteOutput> output_;
    bool started_ = false;
    std::vector<std::string> header_;
    std::vector<const Value*> row_;
};

/// Counts records and writes nothing; keeps its checkpoint in a file when resuming.
class NullSink final : public RecordSink {
public:
    explicit NullSink(const SinkSetup& setup) : setup_(setup) {
        if (!setup.resume) return;
        if (setup.checkpoint.empty()) throw std::invalid_argument("resuming without an output needs a checkpoint file");
        resumed_ = read_checkpoint_file(setup.checkpoint);
        if (resumed_) check_checkpoint_input(*resumed_, setup, setup.checkpoint);
    }
    bool encodes() const noexcept override { return true; }
    bool takes_json() const noexcept override { return true; }
    void write(Value&&) override {}
    void commit(Checkpoint& checkpoint) override {
        if (setup_.resume) write_checkpoint_file(setup_.checkpoint, checkpoint);
    }
    void close(Checkpoint& checkpoint) override { commit(checkpoint); }

private:
    SinkSetup setup_;
};

}  // namespace

std::unique_ptr<RecordSink> make_file_sink(const Sink& sink, RecordFormat format, const SinkSetup& setup) {
    return std::make_unique<FileSink>(sink, format, setup);
}

std::unique_ptr<RecordSink> make_null_sink(const SinkSetup& setup) { return std::make_unique<NullSink>(setup); }

void check_checkpoint_input(const Checkpoint& checkpoint, const SinkSetup& setup, const std::string& where) {
    if (checkpoint.input != setup.input)
        throw std::invalid_argument(fmt::format("cannot resume: the checkpoint in '{}' is for input '{}', not '{}'",
                                                where, checkpoint.input, setup.input));
}

}  // namespace statenet::detail
