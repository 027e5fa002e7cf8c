// StoreLock: one `statenet machine serve` per store.
#include "server/store_lock.hpp"

#include <fmt/format.h>

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>
#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string>

namespace statenet::server {

StoreLock::StoreLock(const std::filesystem::path& store) {
    const std::string file = store.string() + ".serve-lock";
    fd_ = ::open(file.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd_ < 0) throw std::runtime_error(fmt::format("cannot create {}: {}", file, std::strerror(errno)));
    if (::flock(fd_, LOCK_EX | LOCK_NB) == 0) {
        // The owner's pid, for the message a second server prints.
        const std::string pid = std::to_string(::getpid()) + "\n";
        if (::ftruncate(fd_, 0) == 0) [[maybe_unused]]
            const auto written = ::pwrite(fd_, pid.data(), pid.size(), 0);
        return;
    }
    char owner[32] = {};
    [[maybe_unused]] const auto n = ::pread(fd_, owner, sizeof owner - 1, 0);
    ::close(fd_);
    std::string pid(owner);
    while (!pid.empty() && pid.back() == '\n') pid.pop_back();
    throw std::runtime_error(fmt::format("another statenet machine serve (pid {}) owns the store {}",
                                         pid.empty() ? "?" : pid, store.string()));
}

StoreLock::~StoreLock() { ::close(fd_); }

}  // namespace statenet::server
