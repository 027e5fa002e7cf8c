// Writes record outcomes in the order given: emitted data to the sink, failures to the errors
// file, counts, and a checkpoint every batch of records.
#pragma once

#include "exec/record_outcome.hpp"
#include "io/byte_output.hpp"
#include "io/checkpoint.hpp"
#include "io/record_sink.hpp"

#include <statenet/stream.hpp>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>

namespace statenet::detail {

class OutcomeWriter {
public:
    /// Continues the counts and the errors file from the sink's resumed checkpoint.
    /// Throws std::invalid_argument when the errors file cannot be opened.
    OutcomeWriter(RecordSink& sink, const StreamOptions& options, std::string input);

    /// Takes what it needs from `outcome` (which the caller may reuse afterwards).
    void write(Outcome& outcome);
    void flush();
    /// The last commit (done), the closing of the sink and the errors file.
    void finish();

    StreamStats stats() const;
    /// Records written so far (resumed ones included); read by the progress thread.
    std::uint64_t finished() const noexcept { return finished_.load(std::memory_order_relaxed); }
    /// Input position after the last record written; read by the progress thread.
    std::uint64_t position() const noexcept { return position_.load(std::memory_order_relaxed); }

private:
    void add_failure(Outcome& outcome);
    void commit(bool done);

    RecordSink& sink_;
    std::function<void(std::uint64_t, const ErrorInfo&)> on_failure_;
    bool resume_;
    std::unique_ptr<ByteOutput> errors_;
    std::size_t batch_size_;
    Checkpoint checkpoint_;  ///< the counts and position of everything written so far
    std::uint64_t resumed_ = 0;
    std::vector<std::string> parked_runs_;  // this call's, up to StreamStats::max_listed_parked
    std::size_t since_commit_ = 0;
    std::atomic<std::uint64_t> finished_{0};
    std::atomic<std::uint64_t> position_{0};
};

}  // namespace statenet::detail
