// The common part of the line-based sources (JSONL, text, CSV): a LineReader over the input.
#pragma once

#include "io/line_reader.hpp"
#include "io/record_source.hpp"

#include <algorithm>
#include <memory>
#include <string_view>

namespace statenet::detail {

/// Only spaces, tabs and carriage returns: a line that holds no record.
inline bool is_blank(std::string_view line) {
    return std::all_of(line.begin(), line.end(), [](char c) { return c == ' ' || c == '\t' || c == '\r'; });
}

class LineSource : public RecordSource {
public:
    void resume(std::uint64_t position, std::uint64_t line) override { lines_.skip_to(position, line); }
    std::uint64_t progress_position() const noexcept override { return input_->raw_position(); }
    std::uint64_t progress_size() const noexcept override { return input_->raw_size(); }
    bool positions_are_file_offsets() const noexcept override { return !input_->compressed(); }
    void before_read(std::function<void()> hook) override { lines_.before_read(std::move(hook)); }

protected:
    explicit LineSource(std::unique_ptr<ByteInput> input) : input_(std::move(input)), lines_(*input_) {}

    /// Starts `record` at the line just read.
    void start(RawRecord& record) const {
        record.line = record.end_line = lines_.line_number();
        record.end = lines_.position();
        record.parser = &json_record_parser();
        record.value.reset();
        record.error.reset();
    }

    std::unique_ptr<ByteInput> input_;
    LineReader lines_;
};

}  // namespace statenet::detail
