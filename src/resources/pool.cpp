// ResourcePools: bounded, shared connection pools per declared resource.
#include "resources/pool.hpp"

namespace statenet::detail {

ResourcePools::ResourcePools(const std::vector<ResourceDecl>& resources)
    : waiting_(resources.size()), network_(resources) {
    for (const auto& r : resources) {
        Pool pool;
        pool.config = SqliteConfig{r.name, r.path, r.pool, r.busy_timeout_ms};
        pools_.push_back(std::move(pool));
    }
}

std::unique_ptr<SqliteConnection> ResourcePools::acquire(int id) {
    std::unique_lock lock(mutex_);
    Pool& pool = pools_[static_cast<std::size_t>(id)];
    released_.wait(lock, [&] { return !pool.idle.empty() || pool.open < pool.config.pool; });
    if (!pool.idle.empty()) {
        auto connection = std::move(pool.idle.back());
        pool.idle.pop_back();
        return connection;
    }
    ++pool.open;
    lock.unlock();
    try {
        return std::make_unique<SqliteConnection>(pool.config);
    } catch (...) {
        lock.lock();
        --pool.open;
        released_.notify_one();
        throw;
    }
}

void ResourcePools::release(int id, std::unique_ptr<SqliteConnection> connection) noexcept {
    // An idle connection holds no transaction; one that cannot even roll back is
    // dropped, and the pool opens a fresh one when it is needed.
    if (connection) {
        try {
            if (connection->in_transaction()) connection->rollback();
        } catch (...) {
            connection.reset();
        }
    }
    {
        std::lock_guard lock(mutex_);
        Pool& pool = pools_[static_cast<std::size_t>(id)];
        if (connection) pool.idle.push_back(std::move(connection));
        else --pool.open;
    }
    released_.notify_one();
}

}  // namespace statenet::detail
