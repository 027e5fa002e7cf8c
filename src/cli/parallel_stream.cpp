// `statenet run -j N`: the JSONL stream through N worker threads, written in input order.
#include "cli/parallel_stream.hpp"

#include "cli/bounded_queue.hpp"
#include "cli/record_outcome.hpp"

#include <exception>
#include <future>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace statenet::cli {

namespace {

struct Job {
    std::string line;
    std::promise<Outcome> outcome;
};

/// The writer's queue, in input order; it is the reorder buffer, and its capacity bounds
/// how far the reader runs ahead of the writer. A ticket without a line asks for a flush.
struct Ticket {
    std::size_t line = 0;
    std::future<Outcome> outcome;
};

struct Queues {
    explicit Queues(std::size_t capacity) : jobs(capacity), tickets(capacity) {}
    BoundedQueue<Job> jobs;
    BoundedQueue<Ticket> tickets;
};

void read_jobs(LineReader& reader, Queues& queues) {
    // Flush before waiting for more input, so a pipe consumer sees records promptly.
    reader.before_read([&] { queues.tickets.push(Ticket{}); });
    std::string_view line;
    while (reader.next(line)) {
        if (is_blank(line)) continue;
        Job job{std::string(line), {}};
        if (!queues.tickets.push(Ticket{reader.line_number(), job.outcome.get_future()})) return;
        if (!queues.jobs.push(std::move(job))) return;
    }
}

void run_jobs(const Workflow& workflow, const RunOptions& options, BoundedQueue<Job>& jobs) {
    while (auto job = jobs.pop()) {
        try {
            job->outcome.set_value(process_line(workflow, job->line, options));
        } catch (...) {
            job->outcome.set_exception(std::current_exception());
        }
    }
}

void write_tickets(BoundedQueue<Ticket>& tickets, OutcomeWriter& writer) {
    while (auto ticket = tickets.pop()) {
        if (ticket->line == 0) {
            writer.flush();
            continue;
        }
        writer.write(ticket->line, ticket->outcome.get());
    }
}

}  // namespace

void run_parallel(const Workflow& workflow, const RunOptions& options, LineReader& reader, OutcomeWriter& writer,
                  std::size_t workers) {
    Queues queues(256 * workers);
    std::exception_ptr read_error;
    std::thread reader_thread([&] {
        try {
            read_jobs(reader, queues);
        } catch (...) {
            read_error = std::current_exception();
        }
        queues.jobs.close();
        queues.tickets.close();
    });
    std::vector<std::thread> pool;
    for (std::size_t i = 0; i < workers; ++i) pool.emplace_back([&] { run_jobs(workflow, options, queues.jobs); });

    std::exception_ptr write_error;
    try {
        write_tickets(queues.tickets, writer);
    } catch (...) {
        write_error = std::current_exception();
        queues.tickets.cancel();
        queues.jobs.cancel();
    }
    reader_thread.join();
    for (auto& thread : pool) thread.join();
    reader.before_read(nullptr);  // the hook refers to the queues, which end here
    if (read_error) std::rethrow_exception(read_error);
    if (write_error) std::rethrow_exception(write_error);
}

}  // namespace statenet::cli
