// Load generator for `statenet machine serve` (bench/run_serve.sh): concurrent HTTP
// clients sending keyed toggle events, and the same events sent in process as a baseline.
//
//   serve_load http BASE_URL CLIENTS INSTANCES EVENTS ACKED_FILE
//       Starts instances t1..tINSTANCES (a duplicate start is fine), then CLIENTS threads,
//       each on one keep-alive connection, send events 0..EVENTS-1: event i toggles
//       t(i % INSTANCES + 1) with key e<i>. A client stops at its first failed request
//       (the server was killed). Writes "key instance" per acknowledged (HTTP 200) event.
//   serve_load direct STORE INSTANCES EVENTS
//       The same events through Machines::send in one thread, each its own transaction.
//
// Prints `name value` lines: events/s and latency percentiles in ms.
#include <statenet/statenet.hpp>

#include <httplib.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace {

using steady = std::chrono::steady_clock;

const std::filesystem::path workflow = std::filesystem::path(STATENET_BENCH_DIR) / "machines/toggle.toml";

std::string instance_of(long event, long instances) { return "t" + std::to_string(event % instances + 1); }

double seconds_since(steady::time_point begin) { return std::chrono::duration<double>(steady::now() - begin).count(); }

void report_latency(std::vector<double>& ms) {
    if (ms.empty()) return;
    std::sort(ms.begin(), ms.end());
    auto at = [&](double q) { return ms[std::min(ms.size() - 1, static_cast<std::size_t>(q * ms.size()))]; };
    std::printf("latency_p50_ms %.3f\nlatency_p99_ms %.3f\nlatency_max_ms %.3f\n", at(0.5), at(0.99), ms.back());
}

bool start_instances(httplib::Client& client, long instances) {
    for (long first = 1; first <= instances; first += 500) {
        std::string body = "{\"instances\":[";
        for (long i = first; i < std::min(instances + 1, first + 500); ++i)
            body +=
                (i == first ? "" : ",") + std::string("{\"id\":\"t") + std::to_string(i) + "\",\"data\":{\"count\":0}}";
        body += "]}";
        auto res = client.Post("/instances", body, "application/json");
        if (!res || res->status != 200) return false;
    }
    return true;
}

int http(const std::string& base, int clients, long instances, long events, const std::string& acked_file) {
    httplib::Client setup(base);
    if (!start_instances(setup, instances)) {
        std::fprintf(stderr, "serve_load: starting the instances failed\n");
        return 1;
    }
    std::atomic<long> next{0};
    std::atomic<long> failed{0};
    std::mutex merge;
    std::vector<double> latencies;
    std::vector<long> acked;
    const auto begin = steady::now();
    std::vector<std::thread> threads;
    for (int c = 0; c < clients; ++c)
        threads.emplace_back([&] {
            httplib::Client client(base);
            client.set_keep_alive(true);
            client.set_tcp_nodelay(true);
            client.set_read_timeout(30);
            std::vector<double> mine;
            std::vector<long> ok;
            for (long i; (i = next.fetch_add(1)) < events;) {
                const std::string key = "e" + std::to_string(i);
                const auto sent = steady::now();
                auto res = client.Post("/instances/" + instance_of(i, instances) + "/events",
                                       "{\"event\":\"toggle\",\"key\":\"" + key + "\"}", "application/json");
                if (!res || res->status != 200) {
                    if (failed.fetch_add(1) == 0)
                        std::fprintf(stderr, "serve_load: %s: %s\n", key.c_str(),
                                     res ? (std::to_string(res->status) + " " + res->body).c_str()
                                         : httplib::to_string(res.error()).c_str());
                    break;
                }
                mine.push_back(seconds_since(sent) * 1000);
                ok.push_back(i);
            }
            std::lock_guard lock(merge);
            latencies.insert(latencies.end(), mine.begin(), mine.end());
            acked.insert(acked.end(), ok.begin(), ok.end());
        });
    for (auto& t : threads) t.join();
    const double wall = seconds_since(begin);
    std::ofstream out(acked_file);
    for (long i : acked) out << 'e' << i << ' ' << instance_of(i, instances) << '\n';
    std::printf("acknowledged %zu\nfailed_clients %ld\nevents_per_s %.0f\n", acked.size(), failed.load(),
                static_cast<double>(acked.size()) / wall);
    report_latency(latencies);
    return 0;
}

int direct(const std::string& store, long instances, long events) {
    statenet::Engine engine;
    statenet::MachinesOptions options;
    options.store = store;
    statenet::Machines machines(engine, workflow, options);
    for (long i = 1; i <= instances; ++i)
        machines.start("t" + std::to_string(i), statenet::Value::object({{"count", statenet::Value(0)}}));
    std::vector<double> latencies;
    const auto begin = steady::now();
    for (long i = 0; i < events; ++i) {
        const auto sent = steady::now();
        machines.send(instance_of(i, instances), "toggle", {}, "e" + std::to_string(i));
        latencies.push_back(seconds_since(sent) * 1000);
    }
    std::printf("events_per_s %.0f\n", static_cast<double>(events) / seconds_since(begin));
    report_latency(latencies);
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    const std::vector<std::string> args(argv + 1, argv + argc);
    if (args.size() == 6 && args[0] == "http")
        return http(args[1], std::atoi(args[2].c_str()), std::atol(args[3].c_str()), std::atol(args[4].c_str()),
                    args[5]);
    if (args.size() == 4 && args[0] == "direct")
        return direct(args[1], std::atol(args[2].c_str()), std::atol(args[3].c_str()));
    std::fprintf(stderr,
                 "usage: serve_load http BASE_URL CLIENTS INSTANCES EVENTS ACKED_FILE\n"
                 "       serve_load direct STORE INSTANCES EVENTS\n");
    return 2;
}
