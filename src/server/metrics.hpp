// The counters behind `GET /metrics` (Prometheus text format): events by outcome and
// the latency of the transitions the API ran. Counting is lock-free; instances by state
// and due timers are read from the machines when the page is rendered.
#pragma once

#include <statenet/machines.hpp>

#include <array>
#include <atomic>
#include <cstdint>
#include <string>

namespace statenet::server {

class Metrics {
public:
    /// Upper bounds (seconds) of the latency histogram's buckets; +Inf follows.
    static constexpr std::array<double, 12> bounds{0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005,
                                                   0.01,   0.025,   0.05,   0.1,   0.25,   1.0};

    void count(SendStatus status);
    /// The time a start or send took through the machines, commit included.
    void observe_latency(double seconds);

    /// The whole page; reads the instances from `machines` (one list() call).
    std::string render(Machines& machines, double now_ms) const;

private:
    std::array<std::atomic<std::uint64_t>, 3> outcomes_{};  // by SendStatus
    std::array<std::atomic<std::uint64_t>, bounds.size() + 1> buckets_{};
    std::atomic<std::uint64_t> observed_{0};
    std::atomic<std::uint64_t> sum_ns_{0};
};

}  // namespace statenet::server
