// `statenet run -i/-o`: a JSONL stream of records through a workflow, every record accounted for.
#include "cli/stream_run.hpp"

#include "cli/line_io.hpp"
#include "cli/outcome_writer.hpp"
#include "cli/parallel_stream.hpp"
#include "cli/record_outcome.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstdio>
#include <string_view>
#include <thread>

namespace statenet::cli {

namespace {

void run_sequential(const Workflow& workflow, const RunOptions& options, LineReader& reader, OutcomeWriter& writer) {
    // Flush before waiting for more input, so a pipe consumer sees records promptly.
    reader.before_read([&] { writer.flush(); });
    std::string_view line;
    while (reader.next(line)) {
        if (is_blank(line)) continue;
        writer.write(reader.line_number(), process_line(workflow, line, options));
    }
}

}  // namespace

StreamCounts run_stream(const Workflow& workflow, const StreamOptions& options) {
    const auto started = std::chrono::steady_clock::now();
    LineReader reader(options.input);
    OutcomeWriter writer(options.output, options.errors);
    const std::size_t workers = options.workers > 0 ? options.workers : std::max(1u, std::thread::hardware_concurrency());
    if (workers == 1) {
        run_sequential(workflow, options.run, reader, writer);
    } else {
        run_parallel(workflow, options.run, reader, writer, workers);
    }
    writer.close();
    StreamCounts counts = writer.counts();
    counts.elapsed = std::chrono::steady_clock::now() - started;
    return counts;
}

void print_summary(const StreamCounts& counts) {
    const double seconds = counts.elapsed.count();
    const double rate = seconds > 0 ? static_cast<double>(counts.total()) / seconds : 0.0;
    const std::string text = fmt::format("statenet: {} records: {} emitted, {} excluded, {} failed in {:.2f}s ({:.0f} records/s)\n",
                                         counts.total(), counts.emitted, counts.excluded, counts.failed, seconds, rate);
    std::fwrite(text.data(), 1, text.size(), stderr);
}

}  // namespace statenet::cli
