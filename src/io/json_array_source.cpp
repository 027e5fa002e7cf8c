// JSON array input: `[ record, record, ... ]` read element by element, never whole.
#include "io/record_source.hpp"

#include <fmt/format.h>

#include <stdexcept>
#include <vector>

namespace statenet::detail {

namespace {

constexpr std::size_t read_block = 1 << 20;

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

/// Cuts the array's top-level elements out of the text; each element's JSON is parsed
/// later, on a worker, so a malformed element fails alone.
class JsonArraySource final : public RecordSource {
public:
    explicit JsonArraySource(std::unique_ptr<ByteInput> input) : input_(std::move(input)), buffer_(read_block) {}

    bool next(RawRecord& record) override {
        if (state_ == State::done) return false;
        if (state_ == State::before_array) open_array();
        if (state_ == State::done) return false;
        if (state_ == State::single) return single(record);
        if (state_ == State::after_single) return finish();
        if (state_ == State::after_element) {
            const int c = next_significant();
            if (c == ']') return finish();
            if (c != ',') throw unexpected(c, "',' or ']' after an array element");
        }
        int c = next_significant();
        if (c == ']' && state_ == State::first_element) return finish();
        if (c < 0) throw std::runtime_error(fmt::format("{}: the input ends inside the JSON array", input_->name()));
        record.line = line_;
        record.value.reset();
        record.error.reset();
        record.text.clear();
        read_element(static_cast<char>(c), record);
        state_ = State::after_element;
        return true;
    }

    void resume(std::uint64_t position, std::uint64_t line) override {
        input_->skip(position);
        position_ = position;
        line_ = line;
        // A checkpoint falls right after an element; a run that finished none starts over.
        state_ = position == 0 ? State::before_array : State::after_element;
    }
    std::uint64_t progress_position() const noexcept override { return input_->raw_position(); }
    std::uint64_t progress_size() const noexcept override { return input_->raw_size(); }
    bool positions_are_file_offsets() const noexcept override { return !input_->compressed(); }
    void before_read(std::function<void()> hook) override { before_read_ = std::move(hook); }

private:
    enum class State { before_array, single, after_single, first_element, after_element, done };

    /// The document's one object, then nothing more.
    bool single(RawRecord& record) {
        record.line = line_;
        record.value.reset();
        record.error.reset();
        record.text.clear();
        read_element(static_cast<char>(get()), record);
        state_ = State::after_single;
        return true;
    }

    void open_array() {
        const int c = next_significant();
        if (c < 0) {
            state_ = State::done;  // an empty input has no records
            return;
        }
        if (c == '{') {  // a document that is one object: that one record
            unget();
            state_ = State::single;
            return;
        }
        if (c != '[') throw unexpected(c, "'[' (a JSON array of records) or '{' (one record)");
        state_ = State::first_element;
    }

    bool finish() {
        state_ = State::done;
        const int c = next_significant();
        if (c >= 0) throw unexpected(c, "nothing after the array's closing ']'");
        return false;
    }

    /// Copies one element, starting with `first`, up to (not including) the ',' or ']'
    /// that ends it at depth 0. Its end is after its last non-blank character, so a
    /// checkpoint does not depend on the blanks that follow it.
    void read_element(char first, RawRecord& record) {
        std::string& text = record.text;
        int depth = 0;
        bool in_string = false;
        bool escaped = false;
        int c = first;
        for (;;) {
            const char ch = static_cast<char>(c);
            if (in_string) {
                if (escaped) escaped = false;
                else if (ch == '\\') escaped = true;
                else if (ch == '"') in_string = false;
            } else if (ch == '"') {
                in_string = true;
            } else if (ch == '{' || ch == '[') {
                ++depth;
            } else if (ch == '}' || ch == ']') {
                if (depth == 0) {
                    unget();
                    return;
                }
                --depth;
            } else if (ch == ',' && depth == 0) {
                unget();
                return;
            }
            text += ch;
            if (in_string || !is_space(ch)) {
                record.end = position_;
                record.end_line = line_;
            }
            c = get();
            if (c < 0) return;  // the worker reports the truncated element
        }
    }

    int next_significant() {
        int c = get();
        while (c >= 0 && is_space(static_cast<char>(c))) c = get();
        return c;
    }

    int get() {
        if (begin_ == end_ && !fill()) return -1;
        const char c = buffer_[begin_++];
        ++position_;
        if (c == '\n') ++line_;
        return static_cast<unsigned char>(c);
    }

    void unget() {
        --begin_;
        --position_;
        if (buffer_[begin_] == '\n') --line_;
    }

    bool fill() {
        if (before_read_ && input_->would_block()) before_read_();
        // Keep the last byte so unget() after a refill still works.
        if (end_ > 0) {
            buffer_[0] = buffer_[end_ - 1];
            begin_ = end_ = 1;
        }
        const std::size_t n = input_->read(buffer_.data() + end_, buffer_.size() - end_);
        end_ += n;
        return n > 0;
    }

    std::runtime_error unexpected(int c, const char* expected) const {
        if (c < 0)
            return std::runtime_error(
                fmt::format("{}: the input ends where {} was expected", input_->name(), expected));
        return std::runtime_error(fmt::format("{}:{}: found '{}' where {} was expected", input_->name(), line_,
                                              static_cast<char>(c), expected));
    }

    std::unique_ptr<ByteInput> input_;
    std::vector<char> buffer_;
    std::size_t begin_ = 0;
    std::size_t end_ = 0;
    std::uint64_t position_ = 0;
    std::uint64_t line_ = 1;
    State state_ = State::before_array;
    std::function<void()> before_read_;
};

}  // namespace

std::unique_ptr<RecordSource> make_json_array_source(std::unique_ptr<ByteInput> input) {
    return std::make_unique<JsonArraySource>(std::move(input));
}

}  // namespace statenet::detail
