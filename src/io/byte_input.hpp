// Byte streams in: a file or stdin, read as it is or through gzip/zstd decompression.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

namespace statenet::detail {

enum class Compression { none, gzip, zstd };

/// Compression named by a path's extension (".gz", ".zst" / ".zstd"); none otherwise.
Compression compression_of(const std::string& path);

/// A readable byte stream. Positions count decompressed bytes; progress counts the
/// bytes taken from the file itself, which is what its size compares with.
class ByteInput {
public:
    virtual ~ByteInput() = default;
    /// Up to `size` bytes into `data`; 0 at the end. Throws std::runtime_error on a read
    /// or decompression error.
    virtual std::size_t read(char* data, std::size_t size) = 0;
    /// Bytes read from the underlying file so far (compressed bytes for a compressed one).
    virtual std::uint64_t raw_position() const noexcept = 0;
    /// The underlying file's size; 0 when unknown (a pipe, stdin).
    virtual std::uint64_t raw_size() const noexcept = 0;
    /// True when positions count decompressed bytes, which the file's size does not measure.
    virtual bool compressed() const noexcept { return false; }
    /// True when read() would wait for bytes not yet written (a pipe or terminal with
    /// nothing in it); never for a regular file. Readers flush their output only then.
    virtual bool would_block() const { return false; }
    /// Skips the first `offset` decompressed bytes (seeking when the file allows it).
    /// Throws std::runtime_error when the input is shorter.
    virtual void skip(std::uint64_t offset);

    /// How errors name this input: 'path' or "standard input".
    const std::string& name() const noexcept { return name_; }

protected:
    explicit ByteInput(std::string name) : name_(std::move(name)) {}

private:
    std::string name_;
};

/// Opens `path` ("-" = stdin), decompressing by extension. Throws std::invalid_argument
/// when the file cannot be opened.
std::unique_ptr<ByteInput> open_input(const std::string& path);

/// How an error message names a file, "-" being the standard stream.
std::string describe_path(const std::string& path, const char* standard_name);

}  // namespace statenet::detail
