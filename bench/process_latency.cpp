// Single-record latency of Workflow::process() on the reference workflow (3 states).
//
//   process_latency [WORKFLOW] [CALLS]
//
// Loads WORKFLOW (default: bench/reference/reference.toml), warms up, then times CALLS
// (default 200000) individual process() calls with std::chrono::steady_clock, in copy
// and in direct mode, and prints the median, p99 and mean per call in microseconds.
#include <statenet/statenet.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <numeric>
#include <string>
#include <vector>

#ifndef STATENET_BENCH_DIR
#define STATENET_BENCH_DIR "bench"
#endif

namespace {

constexpr const char* small_record =
    R"({"id":123,"user_id":4567,"amount":612.34,"quantity":3,"currency":"EUR","status":"new",)"
    R"("email":"u123@example.com","country":"de","created":"2026-01-02T03:04:05Z",)"
    R"("meta":{"source":"web","campaign":"c17"}})";

struct figures {
    double median_us, p99_us, mean_us;
};

figures measure(const statenet::Workflow& workflow, const statenet::Value& record, statenet::DataMode mode,
                std::size_t calls) {
    const statenet::RunOptions options{mode};
    for (std::size_t i = 0; i < calls / 10 + 1000; ++i) (void)workflow.process(record, options);

    std::vector<double> ns(calls);
    std::size_t failures = 0;
    for (std::size_t i = 0; i < calls; ++i) {
        auto start = std::chrono::steady_clock::now();
        statenet::Result result = workflow.process(record, options);
        auto stop = std::chrono::steady_clock::now();
        ns[i] = std::chrono::duration<double, std::nano>(stop - start).count();
        failures += result.ok ? 0 : 1;
    }
    if (failures != 0) std::fprintf(stderr, "process_latency: %zu calls failed\n", failures);
    const double mean = std::accumulate(ns.begin(), ns.end(), 0.0) / static_cast<double>(calls);
    auto at = [&](double q) {
        auto k = static_cast<std::ptrdiff_t>(q * static_cast<double>(calls - 1));
        std::nth_element(ns.begin(), ns.begin() + k, ns.end());
        return ns[static_cast<std::size_t>(k)];
    };
    const double median = at(0.50);
    const double p99 = at(0.99);
    return {median / 1000, p99 / 1000, mean / 1000};
}

}  // namespace

int main(int argc, char** argv) {
    const std::string file = argc > 1 ? argv[1] : STATENET_BENCH_DIR "/reference/reference.toml";
    const std::size_t calls = argc > 2 ? std::strtoull(argv[2], nullptr, 10) : 200000;
    if (calls == 0) {
        std::fprintf(stderr, "usage: %s [WORKFLOW] [CALLS>0]\n", argv[0]);
        return 2;
    }
    try {
        statenet::Engine engine;
        statenet::Workflow workflow = engine.load(file);
        const statenet::Value record = statenet::Value::from_json(small_record);

        statenet::Result check = workflow.process(record);
        if (!check.ok || check.path.size() != 3) {
            std::fprintf(stderr, "process_latency: expected 3 states and success, got %s\n",
                         check.to_value().to_json().c_str());
            return 1;
        }
        std::printf("process() on one %zu-byte record, path %s -> %s -> %s, %zu calls\n",
                    std::char_traits<char>::length(small_record), check.path[0].c_str(), check.path[1].c_str(),
                    check.path[2].c_str(), calls);
        for (auto mode : {statenet::DataMode::copy, statenet::DataMode::direct}) {
            figures f = measure(workflow, record, mode, calls);
            std::printf("process_latency %s: median %.2f us  p99 %.2f us  mean %.2f us\n",
                        mode == statenet::DataMode::copy ? "copy" : "direct", f.median_us, f.p99_us, f.mean_us);
        }
    } catch (const statenet::LoadError& e) {
        for (const auto& d : e.diagnostics()) std::fprintf(stderr, "%s\n", d.str().c_str());
        return 2;
    }
    return 0;
}
