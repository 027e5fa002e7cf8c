// serve(): the threads of a serving process — HTTP workers, the timer loop, upkeep
// (hot reload, recovery, pruning) and the signal watch that starts the drain.
#include "server/serve.hpp"

#include "server/signal_watch.hpp"

#include <fmt/format.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <csignal>
#include <mutex>
#include <stdexcept>
#include <thread>

namespace statenet::server {

namespace {

/// The periodic work beside the requests: reload checks and maintenance.
class Upkeep {
public:
    Upkeep(Machines& machines, const ServeOptions& options) : machines_(machines), options_(options) {}

    void run() {
        using clock = std::chrono::steady_clock;
        auto next_maintenance = clock::now() + every();
        std::unique_lock lock(mutex_);
        while (!stopping_) {
            stopped_.wait_for(lock, std::chrono::milliseconds(500), [&] { return stopping_; });
            if (stopping_) break;
            lock.unlock();
            if (options_.watch) reload();
            if (options_.maintain_every_s > 0 && clock::now() >= next_maintenance) {
                maintain();
                next_maintenance = clock::now() + every();
            }
            lock.lock();
        }
    }

    void stop() {
        {
            std::lock_guard lock(mutex_);
            stopping_ = true;
        }
        stopped_.notify_all();
    }

private:
    Machines& machines_;
    const ServeOptions& options_;
    std::mutex mutex_;
    std::condition_variable stopped_;
    bool stopping_ = false;
    bool prune_missing_ = false;

    std::chrono::steady_clock::duration every() const {
        return std::chrono::duration_cast<std::chrono::steady_clock::duration>(
            std::chrono::duration<double>(options_.maintain_every_s));
    }

    void log(std::string_view line) const {
        if (options_.log) options_.log(line);
    }

    void reload() {
        try {
            if (auto report = machines_.reload_if_changed(); report && options_.reloaded) options_.reloaded(*report);
        } catch (const std::exception& e) {
            log(fmt::format("reload check failed: {}", e.what()));
        }
        if (Supervisor* supervisor = options_.server.supervisor)
            for (const std::string& path : supervisor->kinds()) reload_child(*supervisor, path);
    }

    /// A supervisor's child workflow: reloaded when its code changed (state mapping
    /// follows its new arcs).
    void reload_child(Supervisor& supervisor, const std::string& path) {
        try {
            auto report = supervisor.machines(path)->reload_if_changed();
            if (!report) return;
            if (report->ok) log(fmt::format("reloaded child workflow '{}'", path));
            for (const auto& error : report->errors)
                log(fmt::format("child workflow '{}' did not reload: {}", path, error.str()));
        } catch (const std::exception& e) {
            log(fmt::format("reload check of child workflow '{}' failed: {}", path, e.what()));
        }
    }

    void maintain() {
        try {
            machines_.recover();
        } catch (const std::exception& e) {
            log(fmt::format("recovery failed: {}", e.what()));
        }
        if (prune_missing_) return;
        try {
            const PruneReport pruned = machines_.prune();
            if (pruned.keys + pruned.audit + pruned.instances + pruned.outbox > 0)
                log(fmt::format("pruned {} keys, {} audit rows, {} instances, {} outbox messages", pruned.keys,
                                pruned.audit, pruned.instances, pruned.outbox));
        } catch (const std::logic_error& e) {
            // This build's machines cannot prune yet: say so once and serve on.
            prune_missing_ = true;
            log(fmt::format("pruning is off: {}", e.what()));
        } catch (const std::exception& e) {
            log(fmt::format("pruning failed: {}", e.what()));
        }
    }
};

/// Fires timers at their due time until `stopping`; a failing store is retried.
void run_timer_loop(Machines& machines, const std::atomic<bool>& stopping, const ServeOptions& options) {
    while (!stopping) {
        try {
            machines.run_timers([&] { return stopping.load(); });
        } catch (const std::exception& e) {
            if (options.log) options.log(fmt::format("timer loop: {}; retrying in 1 s", e.what()));
            std::this_thread::sleep_for(std::chrono::seconds(1));
        }
    }
}

/// Ticks the supervisor every `supervise_every_ms` until `stopping`.
void run_supervisor(Supervisor& supervisor, const std::atomic<bool>& stopping, const ServeOptions& options) {
    const auto every = std::chrono::duration<double, std::milli>(options.server.supervise_every_ms);
    while (!stopping) {
        try {
            for (const auto& error : supervisor.tick().errors)
                if (options.log) options.log(fmt::format("supervisor: {}", error));
        } catch (const std::exception& e) {
            if (options.log) options.log(fmt::format("supervisor tick: {}", e.what()));
        }
        std::this_thread::sleep_for(every);
    }
}

}  // namespace

bool serve(Machines& machines, const ServeOptions& options) {
    std::signal(SIGPIPE, SIG_IGN);  // a client that went away is a failed write, not a dead server
    MachineServer server(machines, options.server);
    const int port = server.bind(options.host, options.port);
    SignalWatch signals;
    std::atomic<bool> served{false};
    std::thread drain([&] {
        if (!signals.wait()) return;
        if (options.log) options.log("draining: no new connections; finishing the requests in progress");
        // stop() would be lost before run() has started listening: wait for that.
        while (!served && !server.running()) std::this_thread::sleep_for(std::chrono::milliseconds(10));
        server.stop();
    });

    std::atomic<bool> stopping{false};
    std::thread timers([&] { run_timer_loop(machines, stopping, options); });
    std::thread supervising([&] {
        if (options.server.supervisor) run_supervisor(*options.server.supervisor, stopping, options);
    });
    Upkeep upkeep(machines, options);
    std::thread upkeep_thread([&] { upkeep.run(); });

    const std::string host = options.host.find(':') != std::string::npos ? "[" + options.host + "]" : options.host;
    if (options.listening) options.listening(fmt::format("http://{}:{}", host, port));
    const bool ok = server.run();
    served = true;

    signals.cancel();
    drain.join();
    stopping = true;
    machines.wake();
    timers.join();
    supervising.join();
    upkeep.stop();
    upkeep_thread.join();
    return ok;
}

}  // namespace statenet::server
