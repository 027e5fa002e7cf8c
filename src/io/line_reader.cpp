// Line-by-line reading of a byte stream through one large buffer.
#include "io/line_reader.hpp"

#include <cstring>
#include <stdexcept>
#include <string>

namespace statenet::detail {

namespace {

constexpr std::size_t read_block = 1 << 20;

}  // namespace

LineReader::LineReader(ByteInput& input) : input_(input), buffer_(read_block) {}

bool LineReader::next(std::string_view& line) {
    for (;;) {
        const char* start = buffer_.data() + begin_;
        if (const auto* newline = static_cast<const char*>(std::memchr(start, '\n', end_ - begin_))) {
            line = std::string_view(start, static_cast<std::size_t>(newline - start));
            begin_ += line.size() + 1;
            position_ += line.size() + 1;
            break;
        }
        if (eof_) {
            if (begin_ == end_) return false;
            // The last line has no newline.
            line = std::string_view(start, end_ - begin_);
            begin_ = end_;
            position_ += line.size();
            break;
        }
        fill();
    }
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    ++line_number_;
    return true;
}

void LineReader::skip_to(std::uint64_t position, std::uint64_t line_number) {
    if (position_ == 0 && end_ == 0) {
        input_.skip(position);
        position_ = position;
    }
    std::string_view line;
    while (position_ < position)
        if (!next(line)) throw std::runtime_error(input_.name() + " is shorter than the checkpoint's position");
    line_number_ = line_number;
}

void LineReader::fill() {
    if (begin_ > 0) {
        std::memmove(buffer_.data(), buffer_.data() + begin_, end_ - begin_);
        end_ -= begin_;
        begin_ = 0;
    }
    // A line longer than the buffer grows it.
    if (end_ == buffer_.size()) buffer_.resize(buffer_.size() * 2);
    if (before_read_ && input_.would_block()) before_read_();
    const std::size_t n = input_.read(buffer_.data() + end_, buffer_.size() - end_);
    if (n == 0) eof_ = true;
    end_ += n;
}

}  // namespace statenet::detail
