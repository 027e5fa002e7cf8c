// Record sources: the input of a stream, read one raw record at a time.
#pragma once

#include "io/byte_input.hpp"

#include <statenet/stream.hpp>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

namespace statenet::detail {

/// Why a record's text is not a record. `show_raw`: the errors file shows the text
/// (`"raw"`) rather than the value it parsed to (`"record"`).
struct ParseFailure {
    ErrorInfo error;
    bool show_raw = true;
};

/// Turns a record's text into a record, on a worker thread, so parsing runs in parallel.
class RecordParser {
public:
    virtual ~RecordParser() = default;
    /// Fills `record`; on failure says why (and `record` holds what did parse, if anything).
    virtual std::optional<ParseFailure> parse(std::string_view text, Value& record) const = 0;
};

/// A JSON value that must be an object or an array (JSONL lines, JSON array elements).
const RecordParser& json_record_parser();

/// One input record as the reader found it: text still to be parsed on a worker (by
/// `parser`), a value the reader built, or malformed input with its error.
struct RawRecord {
    std::uint64_t line = 0;                              ///< 1-based line (SQLite: row) where the record starts
    std::uint64_t end_line = 0;                          ///< the line it ends on
    std::uint64_t end = 0;                               ///< input position after it, for checkpoints
    std::string text;                                    ///< the record's text, or the raw input when `error` is set
    const RecordParser* parser = &json_record_parser();  ///< parses `text`; owned by the source
    std::optional<Value> value;                          ///< set when the reader built the record itself
    std::optional<ErrorInfo> error;
};

class RecordSource {
public:
    virtual ~RecordSource() = default;
    /// The next record; false at the end. Throws std::runtime_error on a read error.
    virtual bool next(RawRecord& record) = 0;
    /// Continues after a checkpoint's position; called before the first next().
    virtual void resume(std::uint64_t position, std::uint64_t line) = 0;
    /// Progress: bytes taken from the input file so far, and its size (0 = unknown).
    virtual std::uint64_t progress_position() const noexcept = 0;
    virtual std::uint64_t progress_size() const noexcept = 0;
    /// True when a record's end position is a byte offset of the file itself, so the
    /// written records (not the read-ahead) can measure progress.
    virtual bool positions_are_file_offsets() const noexcept { return false; }
    /// Called before a read that may block, so pending output can be flushed first.
    virtual void before_read(std::function<void()> hook) { (void)hook; }
};

/// The format a path's extension names (a compression extension is looked through).
std::optional<RecordFormat> format_of_path(const std::string& path);

/// Opens the source. Throws std::invalid_argument when it cannot be opened.
std::unique_ptr<RecordSource> open_source(const Source& source);

/// How a checkpoint names a source, so a resume with another input is refused.
std::string source_identity(const Source& source);

// The sources, one per format.
std::unique_ptr<RecordSource> make_jsonl_source(std::unique_ptr<ByteInput> input);
std::unique_ptr<RecordSource> make_text_source(std::unique_ptr<ByteInput> input, std::string field);
std::unique_ptr<RecordSource> make_csv_source(std::unique_ptr<ByteInput> input, char delimiter = ',');
std::unique_ptr<RecordSource> make_json_array_source(std::unique_ptr<ByteInput> input);
/// `element`: a name, or a path of names ending in it ("items/item"); empty = the root's children.
std::unique_ptr<RecordSource> make_xml_source(std::unique_ptr<ByteInput> input, const std::string& element);
/// Every record of `records` as one record `{ path, format, records = [...] }`; a
/// malformed record makes that one record malformed.
std::unique_ptr<RecordSource> make_whole_source(std::unique_ptr<RecordSource> records, std::string path,
                                                RecordFormat format);
/// The database sources bind `params` to the query's parameters (`?` / `$1`).
std::unique_ptr<RecordSource> make_sqlite_source(const std::string& database, const std::string& query,
                                                 const Value::Array& params = {});
std::unique_ptr<RecordSource> make_postgres_source(const std::string& dsn, const std::string& query,
                                                   const Value::Array& params = {});

}  // namespace statenet::detail
