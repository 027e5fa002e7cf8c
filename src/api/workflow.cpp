// Workflow: the public face of a loaded model; runs records on the running version's pooled runners.
#include "api/workflow_impl.hpp"
#include "exec/in_flight.hpp"
#include "exec/stream_runner.hpp"

#include <statenet/strategy_stats.hpp>
#include <statenet/stream.hpp>
#include <statenet/workflow.hpp>

#include <algorithm>
#include <atomic>
#include <exception>
#include <mutex>
#include <stdexcept>
#include <thread>

namespace statenet {

std::optional<DataMode> parse_data_mode(std::string_view text) noexcept {
    if (text == "copy") return DataMode::copy;
    if (text == "reference") return DataMode::reference;
    if (text == "direct") return DataMode::direct;
    return std::nullopt;
}

Workflow::Workflow(std::shared_ptr<detail::WorkflowImpl> impl) : impl_(std::move(impl)) {}
Workflow::~Workflow() = default;
Workflow::Workflow(const Workflow&) = default;
Workflow& Workflow::operator=(const Workflow&) = default;
Workflow::Workflow(Workflow&&) noexcept = default;
Workflow& Workflow::operator=(Workflow&&) noexcept = default;

Result Workflow::process(const Value& record, const RunOptions& options) const {
    return process(Value(record), options);
}

Result Workflow::process(Value&& record, const RunOptions& options) const {
    detail::RunnerLease runner(impl_->runners());
    return runner->run(std::move(record), options);
}

Result Workflow::process_json(std::string_view json, std::string& out, const RunOptions& options, JsonData data) const {
    detail::RunnerLease runner(impl_->runners());
    return runner->run_json(json, out, options, /*lean=*/false, nullptr, data);
}

std::vector<Result> Workflow::process_batch(const std::vector<Value>& records, const BatchOptions& options) const {
    std::vector<Result> results(records.size());
    unsigned workers = options.workers ? options.workers : std::max(1u, std::thread::hardware_concurrency());
    workers = static_cast<unsigned>(std::min<std::size_t>(workers, std::max<std::size_t>(records.size(), 1)));
    std::atomic<std::size_t> next{0};
    std::exception_ptr failure;
    std::mutex failure_mutex;
    const unsigned slots = detail::in_flight_slots(*impl_->model(), 0);
    auto run_one = [&](std::size_t i, detail::Runner& runner) {
        RunOptions run = options.run;
        if (!run.position) run.position = static_cast<std::int64_t>(i);
        results[i] = runner.run(Value(records[i]), run);
    };
    auto work = [&] {
        try {
            if (slots > 1) {
                // Records that wait on the network: `slots` of them in flight per thread.
                detail::InFlight in_flight(impl_->runners(), slots);
                for (std::size_t first = next.fetch_add(slots); first < records.size(); first = next.fetch_add(slots)) {
                    const std::size_t n = std::min<std::size_t>(slots, records.size() - first);
                    in_flight.run(n, [&](std::size_t k, detail::Runner& runner) { run_one(first + k, runner); });
                }
                if (auto errors = in_flight.flush(); !errors.empty())
                    throw std::runtime_error("batch transaction commit failed: " + errors);
                return;
            }
            detail::RunnerLease runner(impl_->runners());
            for (std::size_t i = next++; i < records.size(); i = next++) run_one(i, *runner);
            if (auto error = runner->flush()) throw std::runtime_error("batch transaction commit failed: " + *error);
        } catch (...) {
            // An engine error (not a record failure) stops the batch; rethrown below.
            std::lock_guard lock(failure_mutex);
            if (!failure) failure = std::current_exception();
            next = records.size();
        }
    };
    std::vector<std::thread> threads;
    for (unsigned t = 1; t < workers; ++t) threads.emplace_back(work);
    work();
    for (auto& thread : threads) thread.join();
    if (failure) std::rethrow_exception(failure);
    return results;
}

void Workflow::flush() const {
    const std::string errors = impl_->runners()->flush_idle();
    if (!errors.empty()) throw std::runtime_error("batch transaction commit failed: " + errors);
}

StreamStats Workflow::process_stream(const Source& source, const Sink& sink, const StreamOptions& options) const {
    // A stream runs on the version it starts with, whatever a hot reload swaps in meanwhile.
    return detail::run_stream(impl_->runners(), source, sink, options);
}

StreamStats Workflow::process_stream(const Source& source, const Sink& sink) const {
    return process_stream(source, sink, StreamOptions{});
}

void Workflow::flush_history() const {
    if (auto history = impl_->current()->history) history->flush();
}

std::vector<ResourceStats> Workflow::resource_stats() const { return impl_->current()->pools->stats(); }

std::vector<StrategyStats> strategy_stats(const Workflow& workflow) {
    const auto& strategies = workflow.impl().current()->strategies;
    return strategies ? strategies->stats() : std::vector<StrategyStats>{};
}

const std::string& Workflow::name() const { return impl_->named_model().name; }
const std::string& Workflow::version() const { return impl_->named_model().version; }
const std::string& Workflow::file() const { return impl_->named_model().file; }

}  // namespace statenet

namespace statenet {

std::string Workflow::graph(GraphFormat format) const { return detail::render_graph(*impl_->model(), format); }

std::string Workflow::graph(GraphFormat format, const std::vector<HistoryStep>& run_steps) const {
    return detail::render_run_graph(*impl_->model(), format, run_steps);
}

}  // namespace statenet
