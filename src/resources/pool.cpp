// ResourcePools: bounded, shared connection pools per declared resource, with acquire timeouts.
#include "resources/pool.hpp"
#include "exec/waiter.hpp"
#include "resources/postgres_resource.hpp"
#include "resources/sqlite_resource.hpp"

#include <fmt/format.h>

#include <chrono>
#include <stdexcept>

namespace statenet::detail {

std::unique_ptr<Connection> open_connection(const ResourceDecl& r) {
    if (r.type == "postgres")
        return std::make_unique<PostgresConnection>(
            PostgresConfig{r.name, r.postgres.dsn, r.postgres.statement_timeout_ms});
    if (r.type == "sqlite")
        return std::make_unique<SqliteConnection>(SqliteConfig{r.name, r.path, r.pool, r.busy_timeout_ms});
    throw std::runtime_error(fmt::format("{}: a '{}' resource has no database connection", r.name, r.type));
}

ResourcePools::ResourcePools(const std::vector<ResourceDecl>& resources)
    : waiting_(resources.size()), network_(resources) {
    for (const auto& r : resources) {
        Pool pool;
        pool.decl = r;
        pools_.push_back(std::move(pool));
        meters_.push_back(r.network() ? nullptr : std::make_unique<ResourceMeter>(r.name, r.type));
    }
}

ResourceMeter& ResourcePools::meter(int id) noexcept {
    const auto slot = static_cast<std::size_t>(id);
    return meters_[slot] ? *meters_[slot] : network_.meter(id);
}

std::vector<ResourceStats> ResourcePools::stats() const {
    std::vector<ResourceStats> out;
    for (std::size_t i = 0; i < meters_.size(); ++i)
        out.push_back(meters_[i] ? meters_[i]->stats() : network_.stats(static_cast<int>(i)));
    return out;
}

namespace {

// A record in flight that waits for a connection yields: the connection it waits for
// may be held by another record on the same thread. When every record waits, the
// scheduler polls this, which sleeps until a connection is released (or briefly).
struct ReleasePoller final : Poller {
    std::mutex& mutex;
    std::condition_variable& released;
    ReleasePoller(std::mutex& m, std::condition_variable& r) : mutex(m), released(r) {}
    void poll(int timeout_ms) override {
        std::unique_lock lock(mutex);
        released.wait_for(lock, std::chrono::milliseconds(timeout_ms));
    }
};

}  // namespace

std::unique_ptr<Connection> ResourcePools::acquire(int id) {
    std::unique_lock lock(mutex_);
    Pool& pool = pools_[static_cast<std::size_t>(id)];
    const auto free = [&] { return !pool.idle.empty() || pool.open < pool.decl.pool; };
    if (!free()) {
        // Counted as a waiter so a runner holding a batch open hands its connection back.
        auto& waiting = waiting_[static_cast<std::size_t>(id)];
        ++waiting;
        const auto timeout = std::chrono::duration<double, std::milli>(pool.decl.acquire_timeout_ms);
        bool got = false;
        if (Waiter::current()) {
            const auto deadline = std::chrono::steady_clock::now() + timeout;
            lock.unlock();
            ReleasePoller poller(mutex_, released_);
            wait_for(
                [&] {
                    std::lock_guard relock(mutex_);
                    return free() || std::chrono::steady_clock::now() >= deadline;
                },
                poller);
            lock.lock();
            got = free();
        } else {
            got = released_.wait_for(lock, timeout, free);
        }
        --waiting;
        if (!got) meters_[static_cast<std::size_t>(id)]->set_health(Health::degraded);
        if (!got)
            throw ResourceTimeout(fmt::format(
                "{}: no connection came free within {} ms (all {} in use; raise 'pool' or 'acquire_timeout_ms')",
                pool.decl.name, pool.decl.acquire_timeout_ms, pool.decl.pool));
    }
    if (!pool.idle.empty()) {
        auto connection = std::move(pool.idle.back());
        pool.idle.pop_back();
        return connection;
    }
    ++pool.open;
    lock.unlock();
    ResourceMeter& meter = *meters_[static_cast<std::size_t>(id)];
    try {
        auto connection = open_connection(pool.decl);
        meter.set_health(Health::ok);
        return connection;
    } catch (...) {
        meter.set_health(Health::down);
        lock.lock();
        --pool.open;
        released_.notify_all();
        throw;
    }
}

void ResourcePools::release(int id, std::unique_ptr<Connection> connection) noexcept {
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
    // Every waiter re-checks: with several pools behind one condition variable, one
    // notify could wake a waiter of another resource and be lost.
    released_.notify_all();
}

}  // namespace statenet::detail
