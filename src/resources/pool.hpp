// Connection pools for a workflow's database resources, shared by its workers.
#pragma once

#include "model/model.hpp"
#include "resources/connection.hpp"
#include "resources/meter.hpp"
#include "resources/network_resources.hpp"

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <vector>

namespace statenet::detail {

/// Opens a connection for a declared resource (sqlite or postgres). Throws
/// std::runtime_error when it cannot connect, or for a kind that is not a database.
std::unique_ptr<Connection> open_connection(const ResourceDecl& resource);

class ResourcePools {
public:
    explicit ResourcePools(const std::vector<ResourceDecl>& resources);

    /// A connection to resource `id`: an idle one, a new one while fewer than `pool`
    /// are open, else waits up to the resource's `acquire_timeout_ms` for one to be
    /// released. Throws ResourceTimeout when none came free in time, or
    /// std::runtime_error when the database cannot be opened.
    std::unique_ptr<Connection> acquire(int id);
    /// Takes a connection back, rolling back a transaction it still holds (null, or a
    /// connection that fails to roll back, frees its place instead).
    void release(int id, std::unique_ptr<Connection> connection) noexcept;

    /// Runners waiting for resource `id`: for its write lock (sqlite) or for a pooled
    /// connection. A runner holding a batch transaction open commits early when someone
    /// waits, so batches never starve other workers.
    std::atomic<int>& waiting(int id) { return waiting_[static_cast<std::size_t>(id)]; }

    /// The clients of the `http` and `llm` resources, shared by every runner (they are
    /// bound per runner, not leased per record).
    const NetworkResources& network() const noexcept { return network_; }

    /// The counters and health of resource `id` (any kind), shared by every runner.
    ResourceMeter& meter(int id) noexcept;
    /// Every resource's counters, in declaration order.
    std::vector<ResourceStats> stats() const;

private:
    struct Pool {
        ResourceDecl decl;
        std::vector<std::unique_ptr<Connection>> idle;
        int open = 0;
    };
    std::mutex mutex_;
    std::condition_variable released_;
    std::vector<Pool> pools_;
    std::vector<std::atomic<int>> waiting_;
    NetworkResources network_;
    std::vector<std::unique_ptr<ResourceMeter>> meters_;  // by id; null for network resources (their client's)
};

}  // namespace statenet::detail
