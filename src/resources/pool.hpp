// Connection pools for a workflow's resources, shared by its workers.
#pragma once

#include "model/model.hpp"
#include "resources/network_resources.hpp"
#include "resources/sqlite_resource.hpp"

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <vector>

namespace statenet::detail {

class ResourcePools {
public:
    explicit ResourcePools(const std::vector<ResourceDecl>& resources);

    /// A connection to resource `id`: an idle one, a new one while fewer than `pool`
    /// are open, else waits for one to be released. Throws std::runtime_error when the
    /// database cannot be opened.
    std::unique_ptr<SqliteConnection> acquire(int id);
    /// Takes a connection back, rolling back a transaction it still holds (null, or a
    /// connection that fails to roll back, frees its place instead).
    void release(int id, std::unique_ptr<SqliteConnection> connection) noexcept;

    /// Runners about to take resource `id`'s write lock. A runner holding a batch
    /// transaction open commits early when someone waits, so batches never starve
    /// other workers.
    std::atomic<int>& waiting(int id) { return waiting_[static_cast<std::size_t>(id)]; }

    /// The clients of the `http` and `llm` resources, shared by every runner (they are
    /// bound per runner, not leased per record).
    const NetworkResources& network() const noexcept { return network_; }

private:
    struct Pool {
        SqliteConfig config;
        std::vector<std::unique_ptr<SqliteConnection>> idle;
        int open = 0;
    };
    std::mutex mutex_;
    std::condition_variable released_;
    std::vector<Pool> pools_;
    std::vector<std::atomic<int>> waiting_;
    NetworkResources network_;
};

}  // namespace statenet::detail
