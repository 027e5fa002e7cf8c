// Record sinks: where a stream's emitted records go, with commits that checkpoints ride on.
#pragma once

#include "io/checkpoint.hpp"

#include <statenet/stream.hpp>

#include <cstddef>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace statenet::detail {

/// A record this sink cannot hold (a CSV field outside the header, ...): the record
/// counts as failed with this error instead of being written.
class RecordRefused : public std::runtime_error {
public:
    RecordRefused(std::string name, const std::string& message) : std::runtime_error(message), name_(std::move(name)) {}
    const std::string& name() const noexcept { return name_; }

private:
    std::string name_;
};

/// How a sink is opened for one run.
struct SinkSetup {
    bool resume = false;
    std::string checkpoint;  ///< file sinks: the checkpoint file
    std::string input;       ///< the source's identity, checked against the checkpoint
    /// Table sinks: the rows go to a staging table that replaces the table at close, in
    /// the transaction of the last rows (a full refresh).
    bool replace = false;
    /// Table sinks: an incremental load's new watermark, stored beside the table at close
    /// in the transaction of the last rows (null: no new rows, the stored one stays).
    std::optional<Value> watermark;
};

class RecordSink {
public:
    virtual ~RecordSink() = default;

    /// True when encode() turns records into text on the worker threads; then the
    /// writer calls write_encoded(), else write().
    virtual bool encodes() const noexcept { return false; }
    /// Thread-safe. Throws RecordRefused.
    virtual std::string encode(const Value& data) const {
        (void)data;
        return {};
    }
    virtual void write_encoded(std::string_view text) { (void)text; }
    /// True when encode() is compact JSON of the whole record, so a record's JSON can
    /// go from the run straight to write_encoded() (Runner::run_json).
    virtual bool takes_json() const noexcept { return false; }
    /// Throws RecordRefused, or std::runtime_error on an I/O error.
    virtual void write(Value&& data) = 0;
    /// Lets readers of the output see what was written so far.
    virtual void flush() {}
    /// Makes everything written so far durable together with `checkpoint` (which is
    /// stored only when resuming); fills in the checkpoint's output size and sink state.
    virtual void commit(Checkpoint& checkpoint) = 0;
    /// Finishes the output (a closing bracket, the last transaction), then commits the
    /// final checkpoint as commit() does.
    virtual void close(Checkpoint& checkpoint) = 0;

    /// The checkpoint an interrupted run left, when resuming from one.
    const std::optional<Checkpoint>& resumed() const noexcept { return resumed_; }

protected:
    std::optional<Checkpoint> resumed_;
};

/// Opens the sink; with setup.resume, reads its checkpoint and prepares to append after
/// it. Throws std::invalid_argument when it cannot be opened or resumed.
std::unique_ptr<RecordSink> open_sink(const Sink& sink, const SinkSetup& setup);

std::unique_ptr<RecordSink> make_file_sink(const Sink& sink, RecordFormat format, const SinkSetup& setup);
std::unique_ptr<RecordSink> make_sqlite_sink(const Sink& sink, const SinkSetup& setup);
std::unique_ptr<RecordSink> make_postgres_sink(const Sink& sink, const SinkSetup& setup);
std::unique_ptr<RecordSink> make_null_sink(const SinkSetup& setup);

/// Refuses a checkpoint written for another input.
void check_checkpoint_input(const Checkpoint& checkpoint, const SinkSetup& setup, const std::string& where);

}  // namespace statenet::detail
