// Workflow::process_stream and `statenet run -i/-o`: a source's records through a workflow into a
// sink, on N workers over bounded queues, every record accounted for.
#include "exec/stream_runner.hpp"

#include "exec/in_flight.hpp"
#include "exec/outcome_writer.hpp"
#include "exec/record_outcome.hpp"
#include "exec/runner_pool.hpp"
#include "io/record_sink.hpp"
#include "io/record_source.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <exception>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <thread>
#include <utility>
#include <vector>

namespace statenet::detail {

namespace {

using Clock = std::chrono::steady_clock;

/// Records are read, run and written in batches, so lock traffic is per batch, not per record.
constexpr std::size_t batch_records = 256;
/// Batches parked (finished before their turn to be written), per worker: what bounds the
/// memory in flight.
constexpr std::size_t batches_per_worker = 4;

/// Up to batch_records records and their outcomes, numbered in input order. A worker
/// reads a batch, runs it and writes it, so a batch stays on one thread (and one core's
/// cache) from its text to its output; its strings keep their buffers from one trip to
/// the next, so in a steady stream moving records along allocates nothing.
struct Batch {
    std::vector<RawRecord> records;
    std::vector<Outcome> outcomes;
    std::size_t count = 0;     ///< records[0..count) are this trip's
    std::uint64_t number = 0;  ///< its place in the input order
    std::exception_ptr error;  ///< ordered mode: a failure, raised when the batch's turn to be written comes
};
using BatchPtr = std::unique_ptr<Batch>;

/// Commits what a `[transaction] strategy = "batch"` runner still holds open.
void flush_transactions(Runner& runner) {
    if (auto error = runner.flush()) throw std::runtime_error("batch transaction commit failed: " + *error);
}

/// What the stream is doing, for the progress thread.
struct Position {
    std::atomic<std::uint64_t> input_bytes{0};
};

/// How a worker runs a batch: one record after another on a leased runner, or several in
/// flight on fibers while they wait on the network.
class BatchRunner {
public:
    BatchRunner(const std::shared_ptr<RunnerPool>& runners, unsigned slots) {
        if (slots > 1) in_flight_.emplace(runners, slots);
        else runner_.emplace(runners);
    }
    void run(Batch& batch, const RunOptions& options, const RecordSink& sink) {
        if (batch.outcomes.size() < batch.count) batch.outcomes.resize(batch.count);
        if (runner_) {
            for (std::size_t i = 0; i < batch.count; ++i)
                process_record(**runner_, batch.records[i], options, sink, batch.outcomes[i]);
            return;
        }
        in_flight_->run(batch.count, [&](std::size_t i, Runner& runner) {
            process_record(runner, batch.records[i], options, sink, batch.outcomes[i]);
        });
    }
    /// Commits open batch transactions.
    void finish() {
        if (runner_) return flush_transactions(**runner_);
        if (auto errors = in_flight_->flush(); !errors.empty())
            throw std::runtime_error("batch transaction commit failed: " + errors);
    }

private:
    std::optional<RunnerLease> runner_;
    std::optional<InFlight> in_flight_;
};

/// N workers, each taking the next batch from the source, running it and writing it.
/// There is no reader or writer thread to hand batches to: the source and the writer are
/// each taken under a lock, so on N cores N workers run records all the time. Ordered
/// output: a batch finished before its turn waits among the parked ones and its worker
/// reads on; whoever writes the batch whose turn it is writes the parked ones after it.
class Pipeline {
public:
    Pipeline(std::shared_ptr<RunnerPool> runners, const StreamOptions& options, RecordSource& source,
             const RecordSink& sink, OutcomeWriter& writer, unsigned workers, Position& position)
        : runners_(std::move(runners)),
          options_(options),
          source_(source),
          sink_(sink),
          writer_(writer),
          workers_(workers),
          position_(position),
          max_parked_(batches_per_worker * workers) {}

    void run() {
        // Before waiting for more input, run, write and flush what was read, so a pipe
        // consumer sees records promptly.
        source_.before_read([this] {
            if (reading_) run_now(*reading_);
        });
        std::vector<std::thread> pool;
        for (unsigned i = 1; i < workers_; ++i) pool.emplace_back([this] { guard([this] { work(); }); });
        guard([this] { work(); });
        for (auto& thread : pool) thread.join();
        source_.before_read(nullptr);
        if (error_) std::rethrow_exception(error_);
    }

private:
    struct Worker {
        BatchRunner runner;
        BatchPtr batch;
    };

    template <typename F>
    void guard(F&& body) {
        try {
            body();
        } catch (...) {
            std::lock_guard lock(write_mutex_);
            if (!error_) error_ = std::current_exception();
            cancelled_ = true;
            turn_.notify_all();
        }
    }

    bool ordered() const noexcept { return options_.ordered; }

    void work() {
        Worker worker{BatchRunner(runners_, in_flight_slots(runners_->model(), options_.in_flight)), spare()};
        while (read(worker)) {
            run_batch(worker);
            worker.batch = deliver(std::move(worker.batch), true);
            if (!worker.batch) break;  // cancelled
        }
        worker.runner.finish();
    }

    /// Fills the worker's batch with the next records; false at the end of the input.
    bool read(Worker& worker) {
        std::lock_guard lock(read_mutex_);
        if (input_done_ || cancelled_) return false;
        worker.batch->count = 0;
        worker.batch->number = next_number_++;
        reading_ = &worker;
        // Read into `record_`, not into the batch: the hook may run and write the batch
        // while next() is still reading. Swapping trades buffers with the batch's slot.
        while (worker.batch->count < batch_records && source_.next(record_)) {
            position_.input_bytes.store(source_.progress_position(), std::memory_order_relaxed);
            Batch& batch = *worker.batch;
            if (batch.count == batch.records.size()) batch.records.emplace_back();
            std::swap(batch.records[batch.count], record_);
            ++batch.count;
        }
        reading_ = nullptr;
        if (worker.batch->count == batch_records) return true;
        input_done_ = true;
        if (worker.batch->count > 0) return true;
        --next_number_;  // the last number was taken by nothing: no batch waits for it
        return false;
    }

    void run_batch(Worker& worker) {
        try {
            worker.runner.run(*worker.batch, options_.run, sink_);
        } catch (...) {
            if (!ordered()) throw;
            worker.batch->error = std::current_exception();
        }
    }

    /// The input would block: the records read so far are run and written now, and the
    /// output flushed; reading then goes on into the same batch under a new number.
    void run_now(Worker& worker) {
        Batch& batch = *worker.batch;
        if (batch.count > 0) {
            run_batch(worker);
            worker.batch = deliver(std::move(worker.batch), false);
            if (!worker.batch) throw std::runtime_error("stream cancelled");
            worker.batch->number = next_number_++;
            worker.batch->count = 0;
        }
        std::lock_guard lock(write_mutex_);
        writer_.flush();
    }

    /// Writes the batch when its turn has come (with the parked ones after it), or parks
    /// it; returns a batch for the worker to fill next, or null once cancelled. Without
    /// `may_park` it waits for its turn.
    BatchPtr deliver(BatchPtr batch, bool may_park) {
        std::unique_lock lock(write_mutex_);
        if (!ordered()) {
            if (cancelled_) return nullptr;
            write_batch(*batch);
            return batch;
        }
        turn_.wait(lock, [&] {
            return cancelled_ || batch->number == next_write_ || (may_park && parked_.size() < max_parked_);
        });
        if (cancelled_) return nullptr;
        if (batch->number != next_write_) {
            parked_.emplace(batch->number, std::move(batch));
            return spare_locked();
        }
        write_batch(*batch);
        ++next_write_;
        for (auto next = parked_.find(next_write_); next != parked_.end(); next = parked_.find(next_write_)) {
            write_batch(*next->second);
            spare_.push_back(std::move(next->second));
            parked_.erase(next);
            ++next_write_;
        }
        turn_.notify_all();
        return batch;
    }

    /// Writes a batch's outcomes (under write_mutex_), or raises its failure.
    void write_batch(Batch& batch) {
        if (batch.error) std::rethrow_exception(std::exchange(batch.error, nullptr));
        for (std::size_t i = 0; i < batch.count; ++i) writer_.write(batch.outcomes[i]);
        // A huge record's buffer is not kept for the next trip, so memory follows the
        // records in flight, not the largest record ever seen.
        constexpr std::size_t kept_capacity = 64 * 1024;
        for (std::size_t i = 0; i < batch.count; ++i) {
            if (batch.records[i].text.capacity() > kept_capacity) std::string().swap(batch.records[i].text);
            if (batch.outcomes[i].encoded.capacity() > kept_capacity) std::string().swap(batch.outcomes[i].encoded);
        }
    }

    BatchPtr spare() {
        std::lock_guard lock(write_mutex_);
        return spare_locked();
    }
    BatchPtr spare_locked() {
        if (spare_.empty()) return std::make_unique<Batch>();
        BatchPtr batch = std::move(spare_.back());
        spare_.pop_back();
        return batch;
    }

    const std::shared_ptr<RunnerPool> runners_;
    const StreamOptions& options_;
    RecordSource& source_;
    const RecordSink& sink_;
    OutcomeWriter& writer_;
    const unsigned workers_;
    Position& position_;
    const std::size_t max_parked_;

    std::mutex read_mutex_;  // the source and what follows
    RawRecord record_;
    std::uint64_t next_number_ = 0;
    bool input_done_ = false;
    Worker* reading_ = nullptr;  // whose batch the source is filling

    std::mutex write_mutex_;  // the writer and what follows
    std::condition_variable turn_;
    std::map<std::uint64_t, BatchPtr> parked_;
    std::vector<BatchPtr> spare_;
    std::uint64_t next_write_ = 0;
    std::atomic<bool> cancelled_ = false;
    std::exception_ptr error_;
};

void run_sequential(const std::shared_ptr<RunnerPool>& runners, const StreamOptions& options, RecordSource& source,
                    const RecordSink& sink, OutcomeWriter& writer, Position& position) {
    // Flush before waiting for more input, so a pipe consumer sees records promptly.
    source.before_read([&] { writer.flush(); });
    RunnerLease runner(runners);
    RawRecord record;
    Outcome outcome;
    while (source.next(record)) {
        position.input_bytes.store(source.progress_position(), std::memory_order_relaxed);
        process_record(*runner, record, options.run, sink, outcome);
        writer.write(outcome);
    }
    flush_transactions(*runner);
    source.before_read(nullptr);
}

/// Calls options.on_progress every progress_interval on its own thread until destroyed.
class ProgressTicker {
public:
    ProgressTicker(const StreamOptions& options, const RecordSource& source, const OutcomeWriter& writer,
                   const Position& position)
        : options_(options),
          source_size_(source.progress_size()),
          exact_(source.positions_are_file_offsets()),
          writer_(writer),
          position_(position) {
        if (options_.on_progress) thread_ = std::thread([this] { tick(); });
    }
    ~ProgressTicker() {
        if (!thread_.joinable()) return;
        {
            std::lock_guard lock(mutex_);
            stop_ = true;
        }
        wake_.notify_all();
        thread_.join();
    }
    ProgressTicker(const ProgressTicker&) = delete;
    ProgressTicker& operator=(const ProgressTicker&) = delete;

private:
    /// Reports at once, so even a short run shows it started, then every interval.
    void tick() {
        std::unique_lock lock(mutex_);
        do {
            StreamProgress progress;
            progress.records = writer_.finished();
            progress.input_bytes = exact_ ? writer_.position() : position_.input_bytes.load(std::memory_order_relaxed);
            progress.input_size = source_size_;
            progress.elapsed = Clock::now() - started_;
            options_.on_progress(progress);
        } while (!wake_.wait_for(lock, options_.progress_interval, [this] { return stop_; }));
    }

    const StreamOptions& options_;
    const std::uint64_t source_size_;
    const bool exact_;
    const OutcomeWriter& writer_;
    const Position& position_;
    const Clock::time_point started_ = Clock::now();
    std::mutex mutex_;
    std::condition_variable wake_;
    bool stop_ = false;
    std::thread thread_;
};

}  // namespace

StreamStats run_stream(const std::shared_ptr<RunnerPool>& runners, const Source& source, const Sink& sink,
                       const StreamOptions& given) {
    const auto started = Clock::now();
    StreamOptions options = given;
    // The sink's transactions follow the workflow's `[transaction] batch_size` unless told otherwise.
    if (options.batch_size == 0) options.batch_size = static_cast<std::size_t>(runners->model().transaction.batch_size);
    if (runners->model().has_wait() && runners->model().park_db.empty())
        throw std::invalid_argument(std::string("this workflow has wait states: ") + no_park_database);
    if (options.resume && !options.ordered)
        throw std::invalid_argument("resuming needs ordered output: a checkpoint is a position in the input order");
    SinkSetup setup;
    setup.resume = options.resume;
    setup.input = source_identity(source);
    setup.checkpoint = options.checkpoint;
    if (setup.checkpoint.empty() && sink.kind == Sink::Kind::file && sink.path != "-")
        setup.checkpoint = sink.path + ".checkpoint";
    auto records = open_source(source);
    auto output = open_sink(sink, setup);
    OutcomeWriter writer(*output, options, setup.input);
    if (const auto& resumed = output->resumed()) {
        if (resumed->done) return writer.stats();
        records->resume(resumed->offset, resumed->line);
    }
    Position position;
    {
        ProgressTicker ticker(options, *records, writer, position);
        const unsigned workers = options.workers ? options.workers : std::max(1u, std::thread::hardware_concurrency());
        // Records in flight need batches: one worker goes through the pipeline then.
        if (workers == 1 && in_flight_slots(runners->model(), options.in_flight) == 1) {
            run_sequential(runners, options, *records, *output, writer, position);
        } else {
            Pipeline(runners, options, *records, *output, writer, workers, position).run();
        }
    }
    writer.finish();
    StreamStats stats = writer.stats();
    stats.duration = Clock::now() - started;
    return stats;
}

}  // namespace statenet::detail
