// Workflow::process_stream and `statenet run -i/-o`: a source's records through a workflow into a
// sink, on N workers over bounded queues, every record accounted for.
#include "exec/stream_runner.hpp"

#include "exec/bounded_queue.hpp"
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
#include <future>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <utility>
#include <vector>

namespace statenet::detail {

namespace {

using Clock = std::chrono::steady_clock;

/// Records travel between threads in batches, so queue traffic is per batch, not per record.
constexpr std::size_t batch_records = 256;
/// Queue capacity, in batches per worker: what bounds the memory in flight.
constexpr std::size_t batches_per_worker = 4;

/// Up to batch_records records and their outcomes. A batch goes reader -> worker ->
/// writer and back to the reader, so its strings keep their buffers from one trip to
/// the next: in a steady stream, moving records between threads allocates nothing.
struct Batch {
    std::vector<RawRecord> records;
    std::vector<Outcome> outcomes;
    std::size_t count = 0;  ///< records[0..count) are this trip's
};
using BatchPtr = std::unique_ptr<Batch>;

struct Job {
    BatchPtr batch;
    std::promise<BatchPtr> done;  ///< ordered mode: the writer waits on it
};

/// Ordered mode: the writer's queue in input order; its capacity bounds how far the
/// reader runs ahead of the writer. A ticket without a future asks for a flush.
struct Ticket {
    std::future<BatchPtr> done;
};

/// Commits what a `[transaction] strategy = "batch"` runner still holds open.
void flush_transactions(Runner& runner) {
    if (auto error = runner.flush()) throw std::runtime_error("batch transaction commit failed: " + *error);
}

/// What the stream is doing, for the progress thread.
struct Position {
    std::atomic<std::uint64_t> input_bytes{0};
};

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
          jobs_(batches_per_worker * workers),
          tickets_(batches_per_worker * workers + 1),
          finished_(batches_per_worker * workers + 1),
          spare_(4 * batches_per_worker * workers),
          active_workers_(workers) {}

    void run() {
        std::thread reader([this] { guard(read_error_, [this] { read(); }); });
        std::vector<std::thread> pool;
        for (unsigned i = 0; i < workers_; ++i) pool.emplace_back([this] { guard(work_error_, [this] { work(); }); });
        std::exception_ptr write_error;
        try {
            write();
        } catch (...) {
            write_error = std::current_exception();
            cancel();
        }
        reader.join();
        for (auto& thread : pool) thread.join();
        source_.before_read(nullptr);  // the hook refers to the queues, which end here
        for (const auto& error : {read_error_, work_error_, write_error})
            if (error) std::rethrow_exception(error);
    }

private:
    template <typename F>
    void guard(std::exception_ptr& slot, F&& body) {
        try {
            body();
        } catch (...) {
            std::lock_guard lock(error_mutex_);
            if (!slot) slot = std::current_exception();
            cancel();
        }
    }

    void cancel() {
        jobs_.cancel();
        tickets_.cancel();
        finished_.cancel();
    }

    bool ordered() const noexcept { return options_.ordered; }

    BatchPtr empty_batch() {
        BatchPtr batch = spare_.try_pop().value_or(nullptr);
        if (!batch) batch = std::make_unique<Batch>();
        batch->count = 0;
        return batch;
    }

    /// Hands the batch to the workers and starts a new one; false once the pipeline is
    /// cancelled.
    bool dispatch(BatchPtr& batch) {
        if (batch->count == 0) return true;
        Job job{std::move(batch), {}};
        batch = empty_batch();
        if (ordered() && !tickets_.push(Ticket{job.done.get_future()})) return false;
        return jobs_.push(std::move(job));
    }

    void read() {
        BatchPtr batch = empty_batch();
        bool open = true;
        // Before waiting for more input, send on what was read and flush, so a pipe
        // consumer sees records promptly.
        source_.before_read([&] {
            open = open && dispatch(batch);
            if (open) open = ordered() ? tickets_.push(Ticket{}) : finished_.push(nullptr);
        });
        // Read into `record`, not into the batch: the hook above may send the batch off
        // while next() is still reading. Swapping trades buffers with the batch's slot.
        RawRecord record;
        while (open && source_.next(record)) {
            position_.input_bytes.store(source_.progress_position(), std::memory_order_relaxed);
            auto& records = batch->records;
            if (batch->count == records.size()) records.emplace_back();
            std::swap(records[batch->count], record);
            if (++batch->count == batch_records) open = dispatch(batch);
        }
        if (open) dispatch(batch);
        jobs_.close();
        tickets_.close();
    }

    void work() {
        const unsigned slots = in_flight_slots(runners_->model(), options_.in_flight);
        if (slots > 1) return work_in_flight(slots);
        RunnerLease runner(runners_);
        while (auto job = jobs_.pop()) {
            if (!finish_job(*job, [&](Batch& batch) {
                    for (std::size_t i = 0; i < batch.count; ++i)
                        process_record(*runner, batch.records[i], options_.run, sink_, batch.outcomes[i]);
                }))
                break;
        }
        flush_transactions(*runner);
        if (--active_workers_ == 0) finished_.close();
    }

    /// A batch's records several at a time on this thread, as they wait on the network.
    void work_in_flight(unsigned slots) {
        InFlight in_flight(runners_, slots);
        while (auto job = jobs_.pop()) {
            if (!finish_job(*job, [&](Batch& batch) {
                    in_flight.run(batch.count, [&](std::size_t i, Runner& runner) {
                        process_record(runner, batch.records[i], options_.run, sink_, batch.outcomes[i]);
                    });
                }))
                break;
        }
        if (auto errors = in_flight.flush(); !errors.empty())
            throw std::runtime_error("batch transaction commit failed: " + errors);
        if (--active_workers_ == 0) finished_.close();
    }

    /// Runs `process` on the job's batch and hands the batch on; false once the
    /// pipeline is cancelled.
    template <typename Process>
    bool finish_job(Job& job, Process&& process) {
        Batch& batch = *job.batch;
        if (batch.outcomes.size() < batch.count) batch.outcomes.resize(batch.count);
        try {
            process(batch);
        } catch (...) {
            if (!ordered()) throw;
            job.done.set_exception(std::current_exception());
            return true;
        }
        if (ordered()) job.done.set_value(std::move(job.batch));
        else if (!finished_.push(std::move(job.batch))) return false;
        return true;
    }

    /// Writes a batch's outcomes (a null batch asks for a flush) and gives the batch back
    /// to the reader.
    void write_batch(BatchPtr batch) {
        if (!batch) return writer_.flush();
        for (std::size_t i = 0; i < batch->count; ++i) writer_.write(batch->outcomes[i]);
        // A huge record's buffer is not kept for the next trip, so memory follows the
        // records in flight, not the largest record ever seen.
        constexpr std::size_t kept_capacity = 64 * 1024;
        for (std::size_t i = 0; i < batch->count; ++i) {
            if (batch->records[i].text.capacity() > kept_capacity) std::string().swap(batch->records[i].text);
            if (batch->outcomes[i].encoded.capacity() > kept_capacity) std::string().swap(batch->outcomes[i].encoded);
        }
        spare_.try_push(std::move(batch));
    }

    void write() {
        if (ordered()) {
            while (auto ticket = tickets_.pop()) write_batch(ticket->done.valid() ? ticket->done.get() : nullptr);
        } else {
            while (auto batch = finished_.pop()) write_batch(std::move(*batch));
        }
    }

    const std::shared_ptr<RunnerPool> runners_;
    const StreamOptions& options_;
    RecordSource& source_;
    const RecordSink& sink_;
    OutcomeWriter& writer_;
    unsigned workers_;
    Position& position_;
    BoundedQueue<Job> jobs_;
    BoundedQueue<Ticket> tickets_;
    BoundedQueue<BatchPtr> finished_;  ///< unordered mode: batches as workers finish them
    BoundedQueue<BatchPtr> spare_;     ///< written batches, for the reader to fill again
    std::atomic<unsigned> active_workers_;
    std::mutex error_mutex_;
    std::exception_ptr read_error_;
    std::exception_ptr work_error_;
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
