// Byte streams in: a file or stdin, read as it is or through gzip/zstd decompression.
#include "io/byte_input.hpp"

#include <fmt/format.h>
#include <zlib.h>
#include <zstd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <vector>

#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>

namespace statenet::detail {

namespace {

/// A file descriptor read with read(2), so a pipe's bytes are seen as soon as they arrive.
class FdInput final : public ByteInput {
public:
    explicit FdInput(const std::string& path) : ByteInput(describe_path(path, "standard input")) {
        if (path == "-") {
            fd_ = STDIN_FILENO;
        } else {
            fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
            if (fd_ < 0)
                throw std::invalid_argument(fmt::format("cannot open input '{}': {}", path, std::strerror(errno)));
            owned_ = true;
        }
        struct stat info {};
        if (::fstat(fd_, &info) == 0 && S_ISREG(info.st_mode)) {
            size_ = static_cast<std::uint64_t>(info.st_size);
            seekable_ = true;
        }
    }
    ~FdInput() override {
        if (owned_) ::close(fd_);
    }

    std::size_t read(char* data, std::size_t size) override {
        for (;;) {
            const ssize_t n = ::read(fd_, data, size);
            if (n >= 0) {
                position_ += static_cast<std::uint64_t>(n);
                return static_cast<std::size_t>(n);
            }
            if (errno != EINTR)
                throw std::runtime_error(fmt::format("cannot read {}: {}", name(), std::strerror(errno)));
        }
    }
    std::uint64_t raw_position() const noexcept override { return position_; }
    std::uint64_t raw_size() const noexcept override { return size_; }
    bool would_block() const override {
        if (seekable_) return false;
        pollfd ready{fd_, POLLIN, 0};
        return ::poll(&ready, 1, 0) == 0;  // an error or hang-up does not wait either
    }
    void skip(std::uint64_t offset) override {
        if (!seekable_) return ByteInput::skip(offset);
        if (offset > size_)
            throw std::runtime_error(fmt::format("{} is shorter than the checkpoint's position", name()));
        if (::lseek(fd_, static_cast<off_t>(offset), SEEK_SET) < 0)
            throw std::runtime_error(fmt::format("cannot seek {}: {}", name(), std::strerror(errno)));
        position_ = offset;
    }

private:
    int fd_ = -1;
    bool owned_ = false;
    bool seekable_ = false;
    std::uint64_t size_ = 0;
    std::uint64_t position_ = 0;
};

constexpr std::size_t compressed_block = 256 * 1024;

/// gzip (and zlib) streams, several members one after another as `zcat` reads them.
class GzipInput final : public ByteInput {
public:
    explicit GzipInput(std::unique_ptr<ByteInput> file)
        : ByteInput(file->name()), file_(std::move(file)), in_(compressed_block) {
        if (inflateInit2(&stream_, 15 + 32) != Z_OK) throw std::runtime_error("cannot start gzip decompression");
    }
    ~GzipInput() override { inflateEnd(&stream_); }

    std::size_t read(char* data, std::size_t size) override {
        stream_.next_out = reinterpret_cast<Bytef*>(data);
        stream_.avail_out = static_cast<uInt>(size);
        while (stream_.avail_out == size) {
            if (stream_.avail_in == 0) {
                const std::size_t got = file_->read(in_.data(), in_.size());
                if (got == 0) {
                    if (member_open_) throw std::runtime_error(fmt::format("{}: truncated gzip data", name()));
                    break;
                }
                stream_.next_in = reinterpret_cast<Bytef*>(in_.data());
                stream_.avail_in = static_cast<uInt>(got);
            }
            member_open_ = true;
            const int status = inflate(&stream_, Z_NO_FLUSH);
            if (status == Z_STREAM_END) {
                member_open_ = false;
                inflateReset(&stream_);
            } else if (status != Z_OK && status != Z_BUF_ERROR) {
                throw std::runtime_error(
                    fmt::format("{}: invalid gzip data ({})", name(), stream_.msg ? stream_.msg : "error"));
            }
        }
        return size - stream_.avail_out;
    }
    std::uint64_t raw_position() const noexcept override { return file_->raw_position() - stream_.avail_in; }
    // Buffered compressed bytes may still need more to decompress: asks the file.
    bool would_block() const override { return file_->would_block(); }
    std::uint64_t raw_size() const noexcept override { return file_->raw_size(); }
    bool compressed() const noexcept override { return true; }

private:
    std::unique_ptr<ByteInput> file_;
    std::vector<char> in_;
    z_stream stream_{};
    bool member_open_ = false;
};

/// zstd streams, several frames one after another as `zstdcat` reads them.
class ZstdInput final : public ByteInput {
public:
    explicit ZstdInput(std::unique_ptr<ByteInput> file)
        : ByteInput(file->name()), file_(std::move(file)), in_(ZSTD_DStreamInSize()), stream_(ZSTD_createDStream()) {
        if (!stream_) throw std::runtime_error("cannot start zstd decompression");
    }
    ~ZstdInput() override { ZSTD_freeDStream(stream_); }

    std::size_t read(char* data, std::size_t size) override {
        ZSTD_outBuffer out{data, size, 0};
        while (out.pos == 0) {
            if (input_.pos == input_.size) {
                const std::size_t got = file_->read(in_.data(), in_.size());
                if (got == 0) {
                    if (frame_open_) throw std::runtime_error(fmt::format("{}: truncated zstd data", name()));
                    break;
                }
                input_ = {in_.data(), got, 0};
            }
            const std::size_t status = ZSTD_decompressStream(stream_, &out, &input_);
            if (ZSTD_isError(status))
                throw std::runtime_error(fmt::format("{}: invalid zstd data ({})", name(), ZSTD_getErrorName(status)));
            frame_open_ = status != 0;
        }
        return out.pos;
    }
    std::uint64_t raw_position() const noexcept override { return file_->raw_position() - (input_.size - input_.pos); }
    bool would_block() const override { return file_->would_block(); }
    std::uint64_t raw_size() const noexcept override { return file_->raw_size(); }
    bool compressed() const noexcept override { return true; }

private:
    std::unique_ptr<ByteInput> file_;
    std::vector<char> in_;
    ZSTD_DStream* stream_;
    ZSTD_inBuffer input_{nullptr, 0, 0};
    bool frame_open_ = false;
};

}  // namespace

Compression compression_of(const std::string& path) {
    if (path.ends_with(".gz")) return Compression::gzip;
    if (path.ends_with(".zst") || path.ends_with(".zstd")) return Compression::zstd;
    return Compression::none;
}

std::string describe_path(const std::string& path, const char* standard_name) {
    return path == "-" ? std::string(standard_name) : "'" + path + "'";
}

void ByteInput::skip(std::uint64_t offset) {
    std::vector<char> discard(1 << 16);
    while (offset > 0) {
        const std::size_t got =
            read(discard.data(), static_cast<std::size_t>(std::min<std::uint64_t>(offset, discard.size())));
        if (got == 0) throw std::runtime_error(fmt::format("{} is shorter than the checkpoint's position", name()));
        offset -= got;
    }
}

std::unique_ptr<ByteInput> open_input(const std::string& path) {
    auto file = std::make_unique<FdInput>(path);
    switch (compression_of(path)) {
    case Compression::gzip: return std::make_unique<GzipInput>(std::move(file));
    case Compression::zstd: return std::make_unique<ZstdInput>(std::move(file));
    case Compression::none: break;
    }
    return file;
}

}  // namespace statenet::detail
