// statenet::Workflow: a loaded workflow that processes records; Engine::reload() swaps its version.
#pragma once

#include <statenet/export.hpp>
#include <statenet/history.hpp>
#include <statenet/result.hpp>
#include <statenet/value.hpp>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace statenet {

namespace detail {
struct WorkflowImpl;
}

struct Source;
struct Sink;
struct StreamOptions;
struct StreamStats;

enum class DataMode { copy, reference, direct };
enum class GraphFormat { dot, mermaid };

/// Per-call options of Workflow::process.
struct RunOptions {
    /// Overrides the workflow's data mode for this call.
    std::optional<DataMode> mode{};
    /// Where the record came from (a stream's line number, a batch index); execution
    /// history keeps it with the run.
    std::optional<std::int64_t> position{};
    /// Runs the record from this network's start state instead of the main network's
    /// (empty = main). Map states run their items this way.
    std::string network{};
    /// Map states with a sink continue from their checkpoint, after the items an
    /// interrupted run committed (the CLI's --resume); otherwise they start over.
    bool resume = false;
};

/// What Workflow::process_json writes to its `out`.
enum class JsonData {
    /// The data of a record that succeeds and is emitted (a stream's output line);
    /// nothing for the others.
    emitted,
    /// The record's data whatever became of it, as process() leaves it in Result::data:
    /// a failed record's data (in copy mode, as of its last successful state), an
    /// excluded or a parked record's.
    always,
};

/// Options of Workflow::process_batch.
struct BatchOptions {
    /// Worker threads, each with its own Lua VM; 0 = one per hardware thread.
    unsigned workers = 0;
    RunOptions run{};
};

/// Parses "copy" / "reference" / "direct"; nullopt otherwise.
STATENET_API std::optional<DataMode> parse_data_mode(std::string_view text) noexcept;

/// A workflow loaded by Engine::load. Cheap to copy (every copy shares the model, which
/// only Engine::reload() replaces, between records). process() is thread-safe: each
/// concurrent call gets its own Lua VM.
class STATENET_API Workflow {
public:
    explicit Workflow(std::shared_ptr<detail::WorkflowImpl> impl);
    ~Workflow();
    Workflow(const Workflow&);
    Workflow& operator=(const Workflow&);
    Workflow(Workflow&&) noexcept;
    Workflow& operator=(Workflow&&) noexcept;

    /// Runs one record (a JSON object; in reference mode, the row's key) through the
    /// main network. Never throws for record failures: they are reported in
    /// Result::error. Throws std::invalid_argument when options.mode is
    /// DataMode::reference and the workflow has no `[reference]` table.
    Result process(const Value& record, const RunOptions& options = {}) const;
    /// The same, taking the record over: its untouched fields move into the result
    /// instead of being copied.
    Result process(Value&& record, const RunOptions& options = {}) const;

    /// Runs one record given as JSON text, the fast path for streams: fields that no
    /// function reads never become Lua values, and the output copies the fields the run
    /// did not change from the input. `out` holds the record's data as one line of
    /// JSON when it succeeds and is emitted, or with JsonData::always whatever became
    /// of it (else it is empty); Result::data stays null, everything else is as
    /// process() reports it. The data is the same JSON value as
    /// process(Value::from_json(json)).data, and the same text when the input is compact
    /// JSON as Value::to_json writes it: fields the run did not change keep their input
    /// spelling (spaces inside them, `1.50`, `\u00e9`). Throws JsonError when `json`
    /// is not valid JSON.
    Result process_json(std::string_view json, std::string& out, const RunOptions& options = {},
                        JsonData data = JsonData::emitted) const;

    /// Runs every record, in parallel on `options.workers` threads; the results come
    /// back in input order. Record failures are in the results, as for process().
    /// With `[transaction] strategy = "batch"` the open batches are committed before it
    /// returns; a failing commit throws std::runtime_error.
    std::vector<Result> process_batch(const std::vector<Value>& records, const BatchOptions& options = {}) const;

    /// Commits the batch transactions left open by process() calls
    /// (`[transaction] strategy = "batch"` commits every `batch_size` records; call this
    /// at the end of a run). A no-op for the other strategies. Throws std::runtime_error
    /// when a commit fails: that batch's writes are lost.
    void flush() const;
    /// Waits until the execution history of every record processed so far is committed
    /// to the history database (nothing to do when history is off). Throws HistoryError
    /// when the history database failed; recording stops at the first failure.
    void flush_history() const;

    /// Reads records from `source`, runs them on `options.workers` threads and writes
    /// each emitted record's data to `sink` (in input order unless options.ordered is
    /// false) with bounded memory. Record failures and malformed input are counted and
    /// reported, never thrown (see <statenet/stream.hpp>). Throws std::invalid_argument
    /// for unusable options or files and std::runtime_error for I/O errors.
    StreamStats process_stream(const Source& source, const Sink& sink, const StreamOptions& options) const;
    StreamStats process_stream(const Source& source, const Sink& sink) const;

    /// Resumes a record this workflow parked (in its park database) with `payload` as
    /// ctx.signal, on the current version; as Engine::signal, which loads the workflow
    /// from the parked record's file instead. Throws SignalError as it does.
    Result signal(std::string_view run_id, std::string_view signal, const Value& payload = Value::object()) const;

    /// The counters of the current version's network resources (`http`, `llm`): calls,
    /// errors, retries, latency, breaker state, tokens. Empty when it has none.
    std::vector<ResourceStats> resource_stats() const;

    /// The current version's name and version; references stay valid across reloads for
    /// the workflow's lifetime.
    const std::string& name() const;
    const std::string& version() const;
    /// The path of the workflow file.
    const std::string& file() const;
    /// The network graph as Graphviz dot or Mermaid, with push arcs, conditions and
    /// priorities visible.
    std::string graph(GraphFormat format) const;
    /// The same graph with a recorded run's steps drawn over it (History::steps):
    /// visited states filled, failed ones red, each transition taken as a bold edge
    /// numbered by its step.
    std::string graph(GraphFormat format, const std::vector<HistoryStep>& run_steps) const;

    detail::WorkflowImpl& impl() const { return *impl_; }

private:
    std::shared_ptr<detail::WorkflowImpl> impl_;
};

}  // namespace statenet
