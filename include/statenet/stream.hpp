// statenet streams: where Workflow::process_stream reads records, where it writes them, its options and totals.
#pragma once

#include <statenet/error.hpp>
#include <statenet/export.hpp>
#include <statenet/workflow.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace statenet {

/// How records are laid out in a file.
enum class RecordFormat {
    jsonl,  ///< one JSON value per line
    json,   ///< one JSON array of records
    csv,    ///< a header row, then one record per row (RFC 4180 quoting)
    text,   ///< one line per record, in the field `text_field`
    xml,    ///< repeating elements (`xml_element`); attributes and child text become fields (input only)
};

/// Parses "jsonl" / "json" / "csv" / "text" / "xml"; nullopt otherwise.
STATENET_API std::optional<RecordFormat> parse_record_format(std::string_view text) noexcept;

/// Where records come from. Build one with the functions below.
struct Source {
    enum class Kind { file, sqlite, postgres };
    Kind kind = Kind::file;
    /// A file ("-" = stdin; ".gz" / ".zst" are decompressed), the SQLite database, or
    /// the PostgreSQL conninfo string.
    std::string path = "-";
    /// nullopt: from the extension (.jsonl/.ndjson, .json, .csv, .txt, .xml), else from
    /// the file's first bytes (standard input and named pipes: jsonl unless `detect`; docs/streaming.md#formats).
    std::optional<RecordFormat> format{};
    /// With no `format`: the content decides even when the extension names a format (a
    /// `.txt` file of JSON lines is read as JSONL; a CSV's delimiter is found too).
    bool detect = false;
    /// Text format: the field each line goes into.
    std::string text_field = "line";
    /// SQLite, PostgreSQL: the query whose rows (column name -> value) are the records.
    std::string query{};
    /// CSV: the field separator (`;` for many European exports, `\t` for TSV).
    char csv_delimiter = ',';
    /// XML: the repeating element that is a record: a name (at any depth) or a path from
    /// the root ("catalog/items/item"); empty = each child of the root element.
    std::string xml_element{};
    /// One record for the whole file: `{ path, format, records = [...] }`.
    bool whole = false;
};

/// Where emitted records go. Build one with the functions below.
struct Sink {
    enum class Kind { file, sqlite, postgres, none };
    Kind kind = Kind::file;
    /// A file ("-" = stdout; ".gz" / ".zst" are compressed), the SQLite database, or
    /// the PostgreSQL conninfo string.
    std::string path = "-";
    /// nullopt: from the extension, as for Source.
    std::optional<RecordFormat> format{};
    /// Text format: the field whose value is written as the line.
    std::string text_field = "line";
    /// SQLite, PostgreSQL: the table (created when missing; columns added for new fields).
    std::string table{};
    /// SQLite, PostgreSQL: upsert by this column (insert or update the row with the same key);
    /// empty = plain inserts.
    std::string key{};
    /// CSV: the field separator.
    char csv_delimiter = ',';
};

STATENET_API Source file_source(std::string path, std::optional<RecordFormat> format = std::nullopt);
STATENET_API Source jsonl_source(std::string path);
STATENET_API Source json_source(std::string path);
STATENET_API Source csv_source(std::string path);
STATENET_API Source text_source(std::string path, std::string field = "line");
STATENET_API Source sqlite_source(std::string database, std::string query);
/// `dsn` is a libpq conninfo string ("host=/run/pg dbname=app user=app").
STATENET_API Source postgres_source(std::string dsn, std::string query);

STATENET_API Sink file_sink(std::string path, std::optional<RecordFormat> format = std::nullopt);
STATENET_API Sink jsonl_sink(std::string path);
STATENET_API Sink json_sink(std::string path);
STATENET_API Sink csv_sink(std::string path);
STATENET_API Sink text_sink(std::string path, std::string field = "line");
STATENET_API Sink sqlite_sink(std::string database, std::string table, std::string key = {});
STATENET_API Sink postgres_sink(std::string dsn, std::string table, std::string key = {});
/// Discards emitted records (they are still counted).
STATENET_API Sink null_sink();

/// A snapshot of a running stream, for progress displays.
struct StreamProgress {
    std::uint64_t records = 0;  ///< input records finished (resumed ones included)
    /// How far into the input file: the end of the last record written (compressed
    /// input: the compressed bytes read so far).
    std::uint64_t input_bytes = 0;
    std::uint64_t input_size = 0;  ///< the input file's size; 0 when unknown (stdin, a pipe, SQLite)
    std::chrono::duration<double> elapsed{0};
};

/// Options of Workflow::process_stream.
struct StreamOptions {
    /// Worker threads, each with its own Lua VM; 0 = one per hardware thread.
    unsigned workers = 1;
    /// Records each worker keeps in progress while they wait on network resources
    /// (http, llm); 0 = the workflow's `in_flight` (default 64). Workflows without
    /// network resources run one record at a time per worker whatever this says.
    unsigned in_flight = 0;
    /// Write records in input order (default); false writes them as they finish.
    bool ordered = true;
    RunOptions run{};
    /// JSONL file (".gz" / ".zst" compressed by extension) that receives each failed
    /// record or malformed input with its error and line; empty = no file.
    std::string errors{};
    /// Called for each failed record, in output order, with its 1-based input line (row
    /// for SQLite sources) and error.
    std::function<void(std::uint64_t line, const ErrorInfo& error)> on_failure{};
    /// Keep checkpoints and continue after the last one from an earlier interrupted run.
    /// Needs ordered output and a file or SQLite sink.
    bool resume = false;
    /// File sinks: where the checkpoint is kept; empty = the output path + ".checkpoint".
    std::string checkpoint{};
    /// Records per SQLite sink transaction and per checkpoint; 0 = the workflow's
    /// `[transaction] batch_size` (1000 unless the workflow sets it).
    std::size_t batch_size = 0;
    /// Called when the stream starts and then every `progress_interval`, from a
    /// separate thread, while it runs.
    std::function<void(const StreamProgress&)> on_progress{};
    std::chrono::milliseconds progress_interval{200};
};

/// What a stream did. Always total = emitted + excluded + failed + parked.
struct StreamStats {
    std::uint64_t total = 0;
    std::uint64_t emitted = 0;
    std::uint64_t excluded = 0;  ///< finished in a state with emit = false
    std::uint64_t failed = 0;    ///< failed in the workflow, malformed input, or refused by the sink
    /// Parked in a `wait` state: waiting for a signal (Engine::signal), not emitted yet.
    std::uint64_t parked = 0;
    /// The run ids of the records this call parked, in output order (the first
    /// max_listed_parked of them; `statenet history list --parked` lists every one).
    std::vector<std::string> parked_runs;
    static constexpr std::size_t max_listed_parked = 1000;
    /// Records the interrupted run(s) had already committed (counted in the totals above).
    std::uint64_t resumed = 0;
    /// This call's wall time (the resumed part not included).
    std::chrono::duration<double> duration{0};
    /// Records this call processed, per second.
    double records_per_second() const noexcept {
        const double seconds = duration.count();
        return seconds > 0 ? static_cast<double>(total - resumed) / seconds : 0.0;
    }
};

}  // namespace statenet
