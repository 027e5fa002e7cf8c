// Large-buffer line input and buffered output for the CLI's JSONL streams.
#include "cli/line_io.hpp"

#include "cli/options.hpp"

#include <fmt/format.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

#include <fcntl.h>
#include <unistd.h>

namespace statenet::cli {

namespace {

constexpr std::size_t read_block = 1 << 20;

// How an error message names a file, "-" being the standard stream.
std::string describe(const std::string& path, const char* standard_name) {
    return path == "-" ? std::string(standard_name) : "'" + path + "'";
}

}  // namespace

LineReader::LineReader(const std::string& path) : path_(path), buffer_(read_block) {
    if (path == "-") {
        fd_ = STDIN_FILENO;
        return;
    }
    fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd_ < 0) throw usage_error(fmt::format("cannot open input '{}': {}", path, std::strerror(errno)));
    owned_ = true;
}

LineReader::~LineReader() {
    if (owned_) ::close(fd_);
}

bool LineReader::next(std::string_view& line) {
    for (;;) {
        const char* start = buffer_.data() + begin_;
        if (const auto* newline = static_cast<const char*>(std::memchr(start, '\n', end_ - begin_))) {
            line = std::string_view(start, static_cast<std::size_t>(newline - start));
            begin_ += line.size() + 1;
            break;
        }
        if (eof_) {
            if (begin_ == end_) return false;
            // The last line has no newline.
            line = std::string_view(start, end_ - begin_);
            begin_ = end_;
            break;
        }
        fill();
    }
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    ++line_number_;
    return true;
}

void LineReader::fill() {
    if (begin_ > 0) {
        std::memmove(buffer_.data(), buffer_.data() + begin_, end_ - begin_);
        end_ -= begin_;
        begin_ = 0;
    }
    // A line longer than the buffer grows it.
    if (end_ == buffer_.size()) buffer_.resize(buffer_.size() * 2);
    if (before_read_) before_read_();
    for (;;) {
        const ssize_t n = ::read(fd_, buffer_.data() + end_, buffer_.size() - end_);
        if (n > 0) {
            end_ += static_cast<std::size_t>(n);
            return;
        }
        if (n == 0) {
            eof_ = true;
            return;
        }
        if (errno != EINTR)
            throw std::runtime_error(fmt::format("cannot read {}: {}", describe(path_, "standard input"), std::strerror(errno)));
    }
}

BufferedWriter::BufferedWriter(const std::string& path) : path_(path) {
    pending_.reserve(flush_threshold * 2);
    if (path == "-") {
        fd_ = STDOUT_FILENO;
        return;
    }
    fd_ = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
    if (fd_ < 0) throw usage_error(fmt::format("cannot open output '{}': {}", path, std::strerror(errno)));
    owned_ = true;
}

BufferedWriter::~BufferedWriter() {
    try {
        close();
    } catch (...) {
        // A destructor must not throw; close() reports errors to callers that ask.
    }
}

void BufferedWriter::flush() {
    std::size_t done = 0;
    while (done < pending_.size()) {
        const ssize_t n = ::write(fd_, pending_.data() + done, pending_.size() - done);
        if (n < 0) {
            if (errno == EINTR) continue;
            pending_.clear();
            throw std::runtime_error(
                fmt::format("cannot write {}: {}", describe(path_, "standard output"), std::strerror(errno)));
        }
        done += static_cast<std::size_t>(n);
    }
    pending_.clear();
}

void BufferedWriter::close() {
    if (fd_ < 0) return;
    flush();
    const int fd = fd_;
    fd_ = -1;
    if (owned_ && ::close(fd) != 0)
        throw std::runtime_error(fmt::format("cannot close '{}': {}", path_, std::strerror(errno)));
}

}  // namespace statenet::cli
