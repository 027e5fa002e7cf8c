// Line-by-line reading of a byte stream through one large buffer.
#pragma once

#include "io/byte_input.hpp"

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string_view>
#include <vector>

namespace statenet::detail {

/// Splits a ByteInput into lines; the line view stays valid until the next call.
class LineReader {
public:
    explicit LineReader(ByteInput& input);

    /// The next line without its "\n" or "\r\n"; false at the end of the input.
    /// Throws std::runtime_error on a read error.
    bool next(std::string_view& line);
    /// 1-based number of the line next() returned last.
    std::uint64_t line_number() const noexcept { return line_number_; }
    /// Decompressed bytes consumed up to and including the last line returned.
    std::uint64_t position() const noexcept { return position_; }
    /// Moves on to `position` (seeking when nothing was read yet) and continues the line
    /// numbers from `line_number`: where a checkpoint says a run stopped.
    void skip_to(std::uint64_t position, std::uint64_t line_number);
    /// Called before a read that would wait for input (ByteInput::would_block), so pending
    /// output can be flushed first.
    void before_read(std::function<void()> hook) { before_read_ = std::move(hook); }
    ByteInput& input() const noexcept { return input_; }

private:
    void fill();

    ByteInput& input_;
    bool eof_ = false;
    std::vector<char> buffer_;
    std::size_t begin_ = 0;
    std::size_t end_ = 0;
    std::uint64_t line_number_ = 0;
    std::uint64_t position_ = 0;
    std::function<void()> before_read_;
};

}  // namespace statenet::detail
