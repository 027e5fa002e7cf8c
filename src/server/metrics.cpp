// The counters behind `GET /metrics`, rendered in Prometheus text format.
#include "server/metrics.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <map>

namespace statenet::server {

namespace {

/// A label value with `\`, `"` and newlines escaped, as the text format wants.
std::string label(std::string_view text) {
    std::string out;
    for (char c : text) {
        if (c == '\\' || c == '"') out += '\\';
        if (c == '\n') {
            out += "\\n";
            continue;
        }
        out += c;
    }
    return out;
}

}  // namespace

void Metrics::count(SendStatus status) { outcomes_[static_cast<std::size_t>(status)].fetch_add(1); }

void Metrics::observe_latency(double seconds) {
    const auto bucket = std::lower_bound(bounds.begin(), bounds.end(), seconds) - bounds.begin();
    buckets_[static_cast<std::size_t>(bucket)].fetch_add(1);
    observed_.fetch_add(1);
    sum_ns_.fetch_add(static_cast<std::uint64_t>(seconds * 1e9));
}

std::string Metrics::render(Machines& machines, double now_ms) const {
    std::string out;
    auto line = [&](std::string text) {
        out += text;
        out += '\n';
    };
    line("# HELP statenet_machine_events_total Events handled (starts, sends, timers, recovery), by outcome.");
    line("# TYPE statenet_machine_events_total counter");
    for (SendStatus s : {SendStatus::applied, SendStatus::rejected, SendStatus::duplicate})
        line(fmt::format("statenet_machine_events_total{{outcome=\"{}\"}} {}", to_string(s),
                         outcomes_[static_cast<std::size_t>(s)].load()));

    line("# HELP statenet_machine_transition_seconds Time of a start or send through the API, commit included.");
    line("# TYPE statenet_machine_transition_seconds histogram");
    std::uint64_t cumulative = 0;
    for (std::size_t i = 0; i < bounds.size(); ++i) {
        cumulative += buckets_[i].load();
        line(fmt::format("statenet_machine_transition_seconds_bucket{{le=\"{}\"}} {}", bounds[i], cumulative));
    }
    cumulative += buckets_[bounds.size()].load();
    line(fmt::format("statenet_machine_transition_seconds_bucket{{le=\"+Inf\"}} {}", cumulative));
    line(fmt::format("statenet_machine_transition_seconds_sum {}", static_cast<double>(sum_ns_.load()) / 1e9));
    line(fmt::format("statenet_machine_transition_seconds_count {}", observed_.load()));

    // Counted by the store: a scrape reads no instance's data.
    const MachineCensus census = machines.census(now_ms);
    line("# HELP statenet_machine_instances Instances in the store, by state.");
    line("# TYPE statenet_machine_instances gauge");
    for (const auto& [state, n] : census.by_state)
        line(fmt::format("statenet_machine_instances{{state=\"{}\"}} {}", label(state), n));
    line("# HELP statenet_machine_timers_due Instances whose timer is due and not yet fired.");
    line("# TYPE statenet_machine_timers_due gauge");
    line(fmt::format("statenet_machine_timers_due {}", census.timers_due));
    return out;
}

}  // namespace statenet::server
