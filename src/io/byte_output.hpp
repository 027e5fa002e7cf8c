// Byte streams out: a file or stdout, written as it is or through gzip/zstd compression.
#pragma once

#include "io/byte_input.hpp"

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace statenet::detail {

/// A buffered output that writes in large blocks.
class ByteOutput {
public:
    virtual ~ByteOutput() = default;

    void write(std::string_view text) {
        pending_ += text;
        if (pending_.size() >= flush_threshold) flush();
    }
    void write_line(std::string_view text) {
        pending_ += text;
        pending_ += '\n';
        if (pending_.size() >= flush_threshold) flush();
    }
    /// Hands what is buffered to the file (compressed output may keep some back).
    /// Throws std::runtime_error on a write error.
    virtual void flush() = 0;
    /// Makes everything written so far a complete, readable prefix of the file (ends the
    /// gzip member or zstd frame) and returns the file's size: appending after a
    /// truncation to that size yields a valid file.
    virtual std::uint64_t sync_point() = 0;
    /// Flushes, finishes the compressed stream and closes; throws std::runtime_error.
    virtual void close() = 0;

protected:
    static constexpr std::size_t flush_threshold = 64 * 1024;
    std::string pending_;
};

/// Opens `path` ("-" = stdout), compressing by extension. Without `keep`, the file is
/// created or truncated; with it, the file is cut back to `keep` bytes and appended to.
/// Throws std::invalid_argument when it cannot be opened.
std::unique_ptr<ByteOutput> open_output(const std::string& path, std::optional<std::uint64_t> keep = std::nullopt);

}  // namespace statenet::detail
