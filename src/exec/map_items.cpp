// A map state's items through its sub-network, in item order, on the record's thread.
#include "exec/map_items.hpp"

#include "exec/in_flight.hpp"
#include "exec/outcome_writer.hpp"
#include "exec/record_outcome.hpp"

#include <exception>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <utility>
#include <vector>

namespace statenet::detail {

namespace {

/// map_out: child field -> result field; without it the item's whole record.
Value project(Value data, const FieldMap& map_out) {
    if (map_out.empty() || !data.is_object()) return data;
    Value out = Value::object();
    for (const auto& [child, field] : map_out)
        if (const Value* v = data.find(child)) out.set(field, *v);
    return out;
}

class ResultListSink final : public RecordSink {
public:
    ResultListSink(Value& results, const FieldMap& map_out) : results_(results), map_out_(map_out) {}
    void write(Value&& data) override { results_.push_back(project(std::move(data), map_out_)); }
    void commit(Checkpoint&) override {}
    void close(Checkpoint&) override {}

private:
    Value& results_;
    const FieldMap& map_out_;
};

class ProjectingSink final : public RecordSink {
public:
    ProjectingSink(std::unique_ptr<RecordSink> inner, const FieldMap& map_out)
        : inner_(std::move(inner)), map_out_(map_out) {
        resumed_ = inner_->resumed();
    }
    bool encodes() const noexcept override { return inner_->encodes(); }
    std::string encode(const Value& data) const override { return inner_->encode(project(data, map_out_)); }
    void write_encoded(std::string_view text) override { inner_->write_encoded(text); }
    void write(Value&& data) override { inner_->write(project(std::move(data), map_out_)); }
    void flush() override { inner_->flush(); }
    void commit(Checkpoint& checkpoint) override { inner_->commit(checkpoint); }
    void close(Checkpoint& checkpoint) override { inner_->close(checkpoint); }

private:
    std::unique_ptr<RecordSink> inner_;
    const FieldMap& map_out_;
};

/// A batch's `items` written one record each (a batch without them, as it is).
class FlatteningSink final : public RecordSink {
public:
    explicit FlatteningSink(std::unique_ptr<RecordSink> inner) : inner_(std::move(inner)) {
        resumed_ = inner_->resumed();
    }
    void write(Value&& data) override {
        Value* items = data.is_object() ? data.find("items") : nullptr;
        if (!items || !items->is_array()) return inner_->write(std::move(data));
        for (Value& item : items->as_array()) inner_->write(std::move(item));
    }
    void flush() override { inner_->flush(); }
    void commit(Checkpoint& checkpoint) override { inner_->commit(checkpoint); }
    void close(Checkpoint& checkpoint) override { inner_->close(checkpoint); }

private:
    std::unique_ptr<RecordSink> inner_;
};

/// The record's observer shared by the map's worker threads, one call at a time.
class LockedObserver final : public RunObserver {
public:
    explicit LockedObserver(RunObserver* inner)
        : RunObserver(inner && inner->wants_steps(), inner && inner->wants_changes()), inner_(inner) {}

    void run_started(const RunId& id, TickClock::time_point at, const Value& input,
                     const RunOptions& options) override {
        std::lock_guard lock(mutex_);
        inner_->run_started(id, at, input, options);
    }
    int step_started(int parent, StepVia via, const State& state, int attempt, int depth) override {
        std::lock_guard lock(mutex_);
        return inner_->step_started(parent, via, state, attempt, depth);
    }
    void step_ended(int step, StepEnd end, const ErrorInfo* error, std::chrono::nanoseconds took,
                    Value* changes) override {
        std::lock_guard lock(mutex_);
        inner_->step_ended(step, end, error, took, changes);
    }
    void routed(int step, const State& target, std::string_view reason) override {
        std::lock_guard lock(mutex_);
        inner_->routed(step, target, reason);
    }
    void step_failed(int step, const ErrorInfo& error) override {
        std::lock_guard lock(mutex_);
        inner_->step_failed(step, error);
    }
    void run_finished(const Result& result, const State* state, const Value* data) override {
        std::lock_guard lock(mutex_);
        inner_->run_finished(result, state, data);
    }

private:
    RunObserver* inner_;
    std::mutex mutex_;
};

/// map_in: the parent's fields set in the item's record (parsed first if it is text).
void prepare(RawRecord& raw, const Value& map_in) {
    if (raw.error || map_in.size() == 0) return;
    if (!raw.value) {
        Value record;
        if (auto failure = raw.parser->parse(raw.text, record)) {
            raw.error = std::move(failure->error);
            return;
        }
        raw.value = std::move(record);
    }
    if (!raw.value->is_object()) return;  // the run refuses it, naming its type
    for (const auto& [field, value] : map_in.as_object()) raw.value->set(field, value);
}

/// The next item into a reused record, without what prepare() left in it last time.
bool next(RecordSource& items, RawRecord& raw) {
    raw.value.reset();
    raw.error.reset();
    return items.next(raw);
}

class ItemLoop {
public:
    ItemLoop(const MapPlan& plan, RecordSink& sink, OutcomeWriter& writer)
        : plan_(plan), sink_(sink), writer_(writer) {}

    /// Writes one item's outcome; false once the map has failed more than it tolerates.
    bool settle(Outcome& outcome, MapTally& tally) {
        const std::uint64_t index = writer_.finished();  // items before this one, resumed ones included
        writer_.write(outcome);
        if (outcome.kind != Outcome::Kind::emitted && plan_.results) plan_.results->push_back(Value());
        if (outcome.kind == Outcome::Kind::failed) {
            tally.failures.push_back(Value::object(
                {{"index", Value(index)}, {"error", outcome.error.name}, {"message", outcome.error.message}}));
            if (!tally.first) {
                tally.first = outcome.error;
                tally.first_index = index;
            }
            // A percentage is of every item, known only at the end.
            if (plan_.map.tolerated_percent < 0 &&
                writer_.stats().failed > static_cast<std::uint64_t>(plan_.map.tolerated_count)) {
                tally.stopped = true;
                return false;
            }
        }
        return true;
    }

    void one_at_a_time(const std::shared_ptr<RunnerPool>& pool, RecordSource& items, MapTally& tally) {
        RunnerLease runner(pool);
        JoinedRun joined(*runner, plan_.run_id, nullptr);
        RawRecord raw;
        Outcome outcome;
        while (next(items, raw)) {
            prepare(raw, plan_.map_in);
            process_record(*runner, raw, plan_.run, sink_, outcome, plan_.observer);
            if (!settle(outcome, tally)) break;
        }
        if (auto error = runner->flush()) throw std::runtime_error("batch transaction commit failed: " + *error);
    }

    /// Items in chunks, each chunk's items in flight together, written in order.
    void in_flight(const std::shared_ptr<RunnerPool>& pool, RecordSource& items, MapTally& tally) {
        InFlight flight(pool, plan_.slots);
        const std::size_t chunk = 4 * static_cast<std::size_t>(plan_.slots);
        std::vector<RawRecord> raws(chunk);
        std::vector<Outcome> outcomes(chunk);
        bool going = true;  // false once more items failed than tolerated
        for (bool more = true; more && going;) {
            std::size_t n = 0;
            while (n < chunk && (more = next(items, raws[n]))) prepare(raws[n++], plan_.map_in);
            flight.run(n, [&](std::size_t i, Runner& runner) {
                JoinedRun joined(runner, plan_.run_id, nullptr);
                process_record(runner, raws[i], plan_.run, sink_, outcomes[i], plan_.observer);
            });
            for (std::size_t i = 0; going && i < n; ++i) going = settle(outcomes[i], tally);
        }
        if (auto errors = flight.flush(); !errors.empty())
            throw std::runtime_error("batch transaction commit failed: " + errors);
    }

    /// Items in chunks, each chunk's items spread over `workers` threads (each with a runner
    /// of its own, one item at a time), written in order.
    void threaded(const std::shared_ptr<RunnerPool>& pool, RecordSource& items, MapTally& tally, unsigned workers) {
        const std::size_t chunk = 1024 * static_cast<std::size_t>(workers);  // amortises starting the threads
        std::vector<RawRecord> raws(chunk);
        std::vector<Outcome> outcomes(chunk);
        LockedObserver observer(plan_.observer);
        RunObserver* const shared = plan_.observer ? &observer : nullptr;
        std::vector<std::exception_ptr> errors(workers);
        const auto work = [&](unsigned t, std::size_t n) {
            try {
                RunnerLease runner(pool);
                JoinedRun joined(*runner, plan_.run_id, nullptr);
                for (std::size_t i = t; i < n; i += workers)
                    process_record(*runner, raws[i], plan_.run, sink_, outcomes[i], shared);
                if (auto error = runner->flush())
                    throw std::runtime_error("batch transaction commit failed: " + *error);
            } catch (...) {
                errors[t] = std::current_exception();
            }
        };
        bool going = true;  // false once more items failed than tolerated
        for (bool more = true; more && going;) {
            std::size_t n = 0;
            while (n < chunk && (more = next(items, raws[n]))) prepare(raws[n++], plan_.map_in);
            {
                std::vector<std::jthread> threads;
                for (unsigned t = 1; t < workers; ++t) threads.emplace_back(work, t, n);
                work(0, n);
            }
            for (auto& error : errors)
                if (error) std::rethrow_exception(error);
            for (std::size_t i = 0; going && i < n; ++i) going = settle(outcomes[i], tally);
        }
    }

private:
    const MapPlan& plan_;
    RecordSink& sink_;
    OutcomeWriter& writer_;
};

}  // namespace

MapTally run_map_items(const std::shared_ptr<RunnerPool>& pool, const MapPlan& plan, RecordSource& items,
                       RecordSink& sink, const StreamOptions& output, const std::string& identity) {
    MapTally tally;
    OutcomeWriter writer(sink, output, identity);
    if (const auto& resumed = sink.resumed()) {
        if (resumed->done) {
            tally.stats = writer.stats();
            return tally;
        }
        items.resume(resumed->offset, resumed->line);
    }
    ItemLoop loop(plan, sink, writer);
    if (plan.map.workers > 1) loop.threaded(pool, items, tally, static_cast<unsigned>(plan.map.workers));
    else if (plan.slots > 1) loop.in_flight(pool, items, tally);
    else loop.one_at_a_time(pool, items, tally);
    writer.finish();
    tally.stats = writer.stats();
    return tally;
}

std::unique_ptr<RecordSink> make_result_list_sink(Value& results, const FieldMap& map_out) {
    return std::make_unique<ResultListSink>(results, map_out);
}

std::unique_ptr<RecordSink> project_sink(std::unique_ptr<RecordSink> sink, const FieldMap& map_out) {
    if (map_out.empty()) return sink;
    return std::make_unique<ProjectingSink>(std::move(sink), map_out);
}

std::unique_ptr<RecordSink> flatten_sink(std::unique_ptr<RecordSink> sink) {
    return std::make_unique<FlatteningSink>(std::move(sink));
}

bool over_tolerance(const Map& map, std::uint64_t failed, std::uint64_t total) noexcept {
    if (map.tolerated_percent >= 0)
        return static_cast<double>(failed) * 100.0 > map.tolerated_percent * static_cast<double>(total);
    return failed > static_cast<std::uint64_t>(map.tolerated_count);
}

}  // namespace statenet::detail
