// Per-call cost of process() on the reference record through the C++ API and through
// the C ABI (include/statenet/statenet.h: JSON text in, result JSON out), in turns; and
// the C++ API doing what the C ABI does (parse the text, process, write the result as
// JSON), which separates the cost of JSON text from the cost of the boundary.
//
//   host_latency [CALLS]
//
// Each round times CALLS calls (default 100000) of each API in blocks of 1,000, in the
// thread's CPU time (this VM's other tenants move wall time by 3x), and keeps the median block; ROUNDS rounds alternate
// them, and the best median of each is printed as `cpp_us`, `cpp_json_us` and `capi_us` (microseconds per call), then
// the ratios. bench/run_hosts.sh puts these next to the Python figures.
#include <statenet/statenet.h>
#include <statenet/statenet.hpp>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include <time.h>

#ifndef STATENET_BENCH_DIR
#define STATENET_BENCH_DIR "bench"
#endif

namespace {

// The same record as process_latency and bench/python_latency.py.
constexpr const char* reference_record =
    R"({"id":123,"user_id":4567,"amount":612.34,"quantity":3,"currency":"EUR","status":"new",)"
    R"("email":"u123@example.com","country":"de","created":"2026-01-02T03:04:05Z",)"
    R"("meta":{"source":"web","campaign":"c17"}})";

constexpr std::size_t block = 1000;

/// This thread's CPU time in microseconds: what a call costs, whatever else the machine
/// runs meanwhile (every call runs on the calling thread).
double thread_cpu_us() {
    timespec now{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now);
    return static_cast<double>(now.tv_sec) * 1e6 + static_cast<double>(now.tv_nsec) / 1e3;
}

/// The median over blocks of `block` calls, in CPU microseconds per call.
double median_us(const std::function<void()>& call, std::size_t calls) {
    for (std::size_t i = 0; i < calls / 10; ++i) call();
    std::vector<double> per_call;
    for (std::size_t done = 0; done < calls; done += block) {
        const double start = thread_cpu_us();
        for (std::size_t i = 0; i < block; ++i) call();
        per_call.push_back((thread_cpu_us() - start) / block);
    }
    std::nth_element(per_call.begin(), per_call.begin() + per_call.size() / 2, per_call.end());
    return per_call[per_call.size() / 2];
}

[[noreturn]] void fail(const std::string& what) {
    std::fprintf(stderr, "host_latency: %s\n", what.c_str());
    std::exit(1);
}

}  // namespace

int main(int argc, char** argv) {
    const std::size_t calls = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 100000;
    const int rounds = std::getenv("ROUNDS") ? std::atoi(std::getenv("ROUNDS")) : 3;
    if (calls < block || rounds < 1) fail("usage: host_latency [CALLS >= 1000]");
    const std::string file = STATENET_BENCH_DIR "/reference/reference.toml";

    statenet::Engine engine;
    const statenet::Workflow workflow = engine.load(file);
    const statenet::Value record = statenet::Value::from_json(reference_record);
    auto cpp_call = [&] {
        const statenet::Result result = workflow.process(record);
        if (!result.ok) fail("the C++ call failed: " + result.to_value().to_json());
    };

    auto cpp_json_call = [&] {
        const statenet::Result result = workflow.process(statenet::Value::from_json(reference_record));
        if (!result.ok || result.to_value().to_json().empty()) fail("the C++ JSON call failed");
    };

    statenet_engine* c_engine = statenet_engine_new();
    statenet_workflow* c_workflow = nullptr;
    char* error = nullptr;
    if (statenet_workflow_load(c_engine, file.c_str(), &c_workflow, &error) != STATENET_OK) fail(error);
    auto capi_call = [&] {
        char* result = nullptr;
        if (statenet_process(c_workflow, reference_record, &result, &error) != STATENET_OK) fail(error);
        if (!std::strstr(result, "\"ok\":true")) fail(std::string("the C call failed: ") + result);
        statenet_free(result);
    };

    double cpp_best = 1e9, cpp_json_best = 1e9, capi_best = 1e9;
    for (int round = 0; round < rounds; ++round) {
        cpp_best = std::min(cpp_best, median_us(cpp_call, calls));
        cpp_json_best = std::min(cpp_json_best, median_us(cpp_json_call, calls));
        capi_best = std::min(capi_best, median_us(capi_call, calls));
    }
    std::printf("cpp_us %.3f\ncpp_json_us %.3f\ncapi_us %.3f\ncapi_ratio %.2f\ncapi_json_ratio %.2f\n", cpp_best,
                cpp_json_best, capi_best, capi_best / cpp_best, capi_best / cpp_json_best);
    statenet_workflow_free(c_workflow);
    statenet_engine_free(c_engine);
    return 0;
}
