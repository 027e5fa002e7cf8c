// Large-buffer line input and buffered output for the CLI's JSONL streams.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace statenet::cli {

/// Reads a file (or stdin for "-") line by line through one large buffer, with read(2)
/// so a pipe's lines are seen as soon as they arrive.
class LineReader {
public:
    /// Throws usage_error when the file cannot be opened.
    explicit LineReader(const std::string& path);
    ~LineReader();
    LineReader(const LineReader&) = delete;
    LineReader& operator=(const LineReader&) = delete;

    /// The next line without its "\n" or "\r\n"; false at the end of the input. The view
    /// stays valid until the next call. Throws std::runtime_error on a read error.
    bool next(std::string_view& line);
    /// 1-based number of the line next() returned last.
    std::size_t line_number() const noexcept { return line_number_; }
    /// Called before each read that may block, so pending output can be flushed first.
    void before_read(std::function<void()> hook) { before_read_ = std::move(hook); }

private:
    void fill();

    std::string path_;
    int fd_ = -1;
    bool owned_ = false;
    bool eof_ = false;
    std::vector<char> buffer_;
    std::size_t begin_ = 0;
    std::size_t end_ = 0;
    std::size_t line_number_ = 0;
    std::function<void()> before_read_;
};

/// Collects output in one string and writes it in large blocks (stdout for "-").
class BufferedWriter {
public:
    /// Creates or truncates the file; throws usage_error when it cannot be opened.
    explicit BufferedWriter(const std::string& path);
    /// Flushes what is left, ignoring errors; call close() to see them.
    ~BufferedWriter();
    BufferedWriter(const BufferedWriter&) = delete;
    BufferedWriter& operator=(const BufferedWriter&) = delete;

    void write(std::string_view text) {
        pending_ += text;
        if (pending_.size() >= flush_threshold) flush();
    }
    void write_line(std::string_view text) {
        pending_ += text;
        pending_ += '\n';
        if (pending_.size() >= flush_threshold) flush();
    }
    /// Throws std::runtime_error on a write error.
    void flush();
    /// Flushes and closes; throws std::runtime_error on a write or close error.
    void close();

private:
    static constexpr std::size_t flush_threshold = 64 * 1024;

    std::string path_;
    int fd_ = -1;
    bool owned_ = false;
    std::string pending_;
};

}  // namespace statenet::cli
