// Byte streams out: a file or stdout, written as it is or through gzip/zstd compression.
#include "io/byte_output.hpp"

#include <fmt/format.h>
#include <zlib.h>
#include <zstd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <vector>

#include <fcntl.h>
#include <unistd.h>

namespace statenet::detail {

namespace {

/// The file itself: writes bytes with write(2).
class FdFile {
public:
    FdFile(const std::string& path, std::optional<std::uint64_t> keep) : name_(describe_path(path, "standard output")) {
        if (path == "-") {
            if (keep) throw std::invalid_argument("cannot resume into standard output (use -o FILE)");
            fd_ = STDOUT_FILENO;
            return;
        }
        const int flags = O_WRONLY | O_CREAT | O_CLOEXEC | (keep ? 0 : O_TRUNC);
        fd_ = ::open(path.c_str(), flags, 0666);
        if (fd_ < 0)
            throw std::invalid_argument(fmt::format("cannot open output '{}': {}", path, std::strerror(errno)));
        owned_ = true;
        if (keep) {
            if (::ftruncate(fd_, static_cast<off_t>(*keep)) != 0 || ::lseek(fd_, 0, SEEK_END) < 0)
                throw std::runtime_error(
                    fmt::format("cannot cut {} back to its checkpoint: {}", name_, std::strerror(errno)));
            size_ = *keep;
        }
    }
    ~FdFile() {
        if (owned_ && fd_ >= 0) ::close(fd_);
    }
    FdFile(const FdFile&) = delete;
    FdFile& operator=(const FdFile&) = delete;

    void write(const char* data, std::size_t size) {
        std::size_t done = 0;
        while (done < size) {
            const ssize_t n = ::write(fd_, data + done, size - done);
            if (n < 0) {
                if (errno == EINTR) continue;
                throw std::runtime_error(fmt::format("cannot write {}: {}", name_, std::strerror(errno)));
            }
            done += static_cast<std::size_t>(n);
        }
        size_ += size;
    }
    void close() {
        const int fd = fd_;
        fd_ = -1;
        if (owned_ && ::close(fd) != 0)
            throw std::runtime_error(fmt::format("cannot close {}: {}", name_, std::strerror(errno)));
    }
    bool is_open() const noexcept { return fd_ >= 0; }
    std::uint64_t size() const noexcept { return size_; }
    const std::string& name() const noexcept { return name_; }

private:
    std::string name_;
    int fd_ = -1;
    bool owned_ = false;
    std::uint64_t size_ = 0;
};

class PlainOutput final : public ByteOutput {
public:
    PlainOutput(const std::string& path, std::optional<std::uint64_t> keep) : file_(path, keep) {
        pending_.reserve(flush_threshold * 2);
    }
    ~PlainOutput() override {
        try {
            close();
        } catch (...) {
            // A destructor must not throw; close() reports errors to callers that ask.
        }
    }
    void flush() override {
        file_.write(pending_.data(), pending_.size());
        pending_.clear();
    }
    std::uint64_t sync_point() override {
        flush();
        return file_.size();
    }
    void close() override {
        if (!file_.is_open()) return;
        flush();
        file_.close();
    }

private:
    FdFile file_;
};

constexpr std::size_t compressed_block = 256 * 1024;

/// gzip; each sync point ends a member, so the file is a series of complete members.
class GzipOutput final : public ByteOutput {
public:
    GzipOutput(const std::string& path, std::optional<std::uint64_t> keep)
        : file_(path, keep), out_(compressed_block) {}
    ~GzipOutput() override {
        try {
            close();
        } catch (...) {
            // See PlainOutput.
        }
        if (started_) deflateEnd(&stream_);
    }
    void flush() override { compress(Z_NO_FLUSH); }
    std::uint64_t sync_point() override {
        compress(Z_FINISH);
        return file_.size();
    }
    void close() override {
        if (!file_.is_open()) return;
        compress(Z_FINISH);
        file_.close();
    }

private:
    void compress(int mode) {
        if (pending_.empty() && (mode == Z_NO_FLUSH || !started_)) return;
        if (!started_) {
            if (deflateInit2(&stream_, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
                throw std::runtime_error("cannot start gzip compression");
            started_ = true;
        }
        stream_.next_in = reinterpret_cast<Bytef*>(pending_.data());
        stream_.avail_in = static_cast<uInt>(pending_.size());
        int status = Z_OK;
        do {
            stream_.next_out = reinterpret_cast<Bytef*>(out_.data());
            stream_.avail_out = static_cast<uInt>(out_.size());
            status = deflate(&stream_, mode);
            if (status == Z_STREAM_ERROR)
                throw std::runtime_error(fmt::format("{}: gzip compression failed", file_.name()));
            file_.write(out_.data(), out_.size() - stream_.avail_out);
        } while (stream_.avail_out == 0 || (mode == Z_FINISH && status != Z_STREAM_END));
        pending_.clear();
        if (mode == Z_FINISH) {
            deflateEnd(&stream_);
            started_ = false;
        }
    }

    FdFile file_;
    std::vector<char> out_;
    z_stream stream_{};
    bool started_ = false;
};

/// zstd; each sync point ends a frame, so the file is a series of complete frames.
class ZstdOutput final : public ByteOutput {
public:
    ZstdOutput(const std::string& path, std::optional<std::uint64_t> keep)
        : file_(path, keep), out_(ZSTD_CStreamOutSize()), stream_(ZSTD_createCCtx()) {
        if (!stream_) throw std::runtime_error("cannot start zstd compression");
    }
    ~ZstdOutput() override {
        try {
            close();
        } catch (...) {
            // See PlainOutput.
        }
        ZSTD_freeCCtx(stream_);
    }
    void flush() override { compress(ZSTD_e_continue); }
    std::uint64_t sync_point() override {
        compress(ZSTD_e_end);
        return file_.size();
    }
    void close() override {
        if (!file_.is_open()) return;
        compress(ZSTD_e_end);
        file_.close();
    }

private:
    void compress(ZSTD_EndDirective mode) {
        if (pending_.empty() && (mode == ZSTD_e_continue || !frame_open_)) return;
        frame_open_ = true;
        ZSTD_inBuffer in{pending_.data(), pending_.size(), 0};
        for (;;) {
            ZSTD_outBuffer out{out_.data(), out_.size(), 0};
            const std::size_t left = ZSTD_compressStream2(stream_, &out, &in, mode);
            if (ZSTD_isError(left))
                throw std::runtime_error(
                    fmt::format("{}: zstd compression failed ({})", file_.name(), ZSTD_getErrorName(left)));
            file_.write(out_.data(), out.pos);
            const bool done = mode == ZSTD_e_end ? left == 0 : in.pos == in.size;
            if (done) break;
        }
        pending_.clear();
        if (mode == ZSTD_e_end) frame_open_ = false;
    }

    FdFile file_;
    std::vector<char> out_;
    ZSTD_CCtx* stream_;
    bool frame_open_ = false;
};

}  // namespace

std::unique_ptr<ByteOutput> open_output(const std::string& path, std::optional<std::uint64_t> keep) {
    switch (compression_of(path)) {
    case Compression::gzip: return std::make_unique<GzipOutput>(path, keep);
    case Compression::zstd: return std::make_unique<ZstdOutput>(path, keep);
    case Compression::none: break;
    }
    return std::make_unique<PlainOutput>(path, keep);
}

}  // namespace statenet::detail
