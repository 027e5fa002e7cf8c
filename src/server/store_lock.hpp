// StoreLock: one `statenet machine serve` per store. An advisory lock (flock) on
// `<store>.serve-lock`, held for the process's life and released by the kernel when it
// ends, kill -9 included. Other statenet commands may still use the store.
#pragma once

#include <filesystem>

namespace statenet::server {

class StoreLock {
public:
    /// Throws std::runtime_error when another process holds the lock or the lock file
    /// cannot be created.
    explicit StoreLock(const std::filesystem::path& store);
    ~StoreLock();
    StoreLock(const StoreLock&) = delete;
    StoreLock& operator=(const StoreLock&) = delete;

private:
    int fd_ = -1;
};

}  // namespace statenet::server
