// Whole-file input: every record of a file gathered into one record, so a function sees
// the file at once (`{ path, format, records = [...] }`).
#include "io/format_sniff.hpp"
#include "io/record_source.hpp"

#include <fmt/format.h>

#include <utility>

namespace statenet::detail {

namespace {

class WholeSource final : public RecordSource {
public:
    WholeSource(std::unique_ptr<RecordSource> records, std::string path, RecordFormat format)
        : records_(std::move(records)), path_(std::move(path)), format_(format) {}

    bool next(RawRecord& record) override {
        if (done_) return false;
        done_ = true;
        Value::Array all;
        RawRecord raw;
        std::uint64_t last_line = 0;
        while (records_->next(raw)) {
            Value value;
            if (raw.value) value = std::move(*raw.value);
            else if (!raw.error)
                if (auto failure = raw.parser->parse(raw.text, value)) raw.error = std::move(failure->error);
            if (raw.error) return malformed(record, raw);
            all.push_back(std::move(value));
            last_line = raw.end_line;
            raw.value.reset();
        }
        record = RawRecord{};
        record.line = 1;
        record.end_line = last_line;
        record.end = records_->progress_position();
        record.value = Value::object(
            {{"path", Value(path_)}, {"format", Value(format_name(format_))}, {"records", Value(std::move(all))}});
        return true;
    }
    void resume(std::uint64_t position, std::uint64_t) override { done_ = position > 0; }
    std::uint64_t progress_position() const noexcept override { return records_->progress_position(); }
    std::uint64_t progress_size() const noexcept override { return records_->progress_size(); }

private:
    /// A malformed record fails the file, which is the one record here, naming its line.
    static bool malformed(RawRecord& record, RawRecord& raw) {
        ErrorInfo error = std::move(*raw.error);
        error.message = fmt::format("line {}: {}", raw.line, error.message);
        record = std::move(raw);
        record.error = std::move(error);
        return true;
    }

    std::unique_ptr<RecordSource> records_;
    std::string path_;
    RecordFormat format_;
    bool done_ = false;
};

}  // namespace

std::unique_ptr<RecordSource> make_whole_source(std::unique_ptr<RecordSource> records, std::string path,
                                                RecordFormat format) {
    return std::make_unique<WholeSource>(std::move(records), std::move(path), format);
}

}  // namespace statenet::detail
