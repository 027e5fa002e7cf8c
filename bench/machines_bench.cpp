// Machines benchmark: in-memory and durable (SQLite, batched send_many) events/s on the
// toggle machine (bench/machines/toggle.toml), and the memory of an idle in-memory instance.
// Usage: machines_bench N_EVENTS N_INSTANCES STORE_DIR [memory|durable|idle]
// (prints `name value` lines; the durable part sends N_EVENTS / 4 events)
#include <statenet/statenet.hpp>

#include <unistd.h>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace {

const std::filesystem::path workflow = std::filesystem::path(STATENET_BENCH_DIR) / "machines/toggle.toml";

/// Wall and CPU time of one measured loop; prints `<name>_events_per_s` for both.
class Timer {
public:
    Timer() : wall_(std::chrono::steady_clock::now()), cpu_(std::clock()) {}
    void report(const char* name, double events) const {
        const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_).count();
        const double cpu = static_cast<double>(std::clock() - cpu_) / CLOCKS_PER_SEC;
        std::printf("%s_events_per_s %.0f\n%s_events_per_cpu_s %.0f\n", name, events / wall, name, events / cpu);
    }

private:
    std::chrono::steady_clock::time_point wall_;
    std::clock_t cpu_;
};

/// Resident set size in bytes.
double rss_bytes() {
    std::ifstream statm("/proc/self/statm");
    double pages = 0, resident = 0;
    statm >> pages >> resident;
    return resident * static_cast<double>(sysconf(_SC_PAGESIZE));
}

statenet::Value counter() { return statenet::Value::object({{"count", statenet::Value(0)}}); }

void in_memory(long events) {
    statenet::Engine engine;
    statenet::MachinesOptions options;
    options.memory_audit_limit = 0;  // the in-memory audit log is optional; measured below with it
    statenet::Machines machines(engine, workflow, options);
    machines.start("t", counter());
    for (int i = 0; i < 10000; ++i) machines.send("t", "toggle");
    Timer timer;
    for (long i = 0; i < events; ++i) machines.send("t", "toggle");
    timer.report("statenet_memory", static_cast<double>(events));
    if (machines.get("t")->data["count"].as_int() != events + 10000) std::fprintf(stderr, "wrong count\n");

    statenet::Machines audited(engine, workflow);  // default: audit log of the last 100000 rows
    audited.start("t", counter());
    Timer audited_timer;
    for (long i = 0; i < events; ++i) audited.send("t", "toggle");
    audited_timer.report("statenet_memory_audited", static_cast<double>(events));
}

void durable(long events, int instances, const std::filesystem::path& dir, bool keyed) {
    std::filesystem::create_directories(dir);
    const auto db = dir / "machines_bench.db";
    for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(db.string() + suffix);
    statenet::Engine engine;
    statenet::MachinesOptions options;
    options.store = db;
    statenet::Machines machines(engine, workflow, options);
    std::vector<std::string> ids;
    for (int i = 0; i < instances; ++i) {
        ids.push_back("session-" + std::to_string(i));
        machines.start(ids.back(), counter());
    }
    constexpr long batch = 1000;
    std::vector<statenet::MachineEvent> events_batch(batch);
    Timer timer;
    long sent = 0;
    while (sent < events) {
        for (long i = 0; i < batch; ++i) {
            events_batch[i].instance = ids[static_cast<std::size_t>((sent + i) % instances)];
            events_batch[i].event = "toggle";
            if (keyed) events_batch[i].key = "k" + std::to_string(sent + i);
        }
        machines.send_many(events_batch);
        sent += batch;
    }
    timer.report(keyed ? "statenet_durable_keyed" : "statenet_durable", static_cast<double>(sent));
}

void idle_memory(int instances) {
    statenet::Engine engine;
    statenet::MachinesOptions options;
    options.memory_audit_limit = 0;  // audit rows are not the instance's memory
    statenet::Machines machines(engine, workflow, options);
    std::vector<std::string> ids;
    for (int i = 0; i < instances; ++i) ids.push_back("npc-" + std::to_string(i));
    machines.start("warm", statenet::Value::object());
    const double before = rss_bytes();
    for (const auto& id : ids) machines.start(id, statenet::Value::object());
    const double after = rss_bytes();
    std::printf("statenet_idle_instance_bytes %.0f\n", (after - before) / instances);
}

}  // namespace

int main(int argc, char** argv) {
    const long events = argc > 1 ? std::stol(argv[1]) : 1000000;
    const int instances = argc > 2 ? std::stoi(argv[2]) : 100;
    const std::filesystem::path dir = argc > 3 ? argv[3] : "bench/out";
    const std::string only = argc > 4 ? argv[4] : "";
    if (only.empty() || only == "memory") in_memory(events);
    if (only.empty() || only == "durable") {
        durable(events / 4, instances, dir, false);
        durable(events / 4, instances, dir, true);  // an idempotency key on every event
    }
    if (only.empty() || only == "idle") idle_memory(100000);
    return 0;
}
