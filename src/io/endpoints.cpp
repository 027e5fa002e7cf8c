// Sources and sinks by description: the public constructors and the choice of format.
#include "io/format_sniff.hpp"
#include "io/record_sink.hpp"
#include "io/record_source.hpp"
#include "resources/postgres_values.hpp"

#include <filesystem>
#include <stdexcept>
#include <system_error>
#include <utility>

namespace statenet {

std::optional<RecordFormat> parse_record_format(std::string_view text) noexcept {
    if (text == "jsonl" || text == "ndjson") return RecordFormat::jsonl;
    if (text == "json") return RecordFormat::json;
    if (text == "csv") return RecordFormat::csv;
    if (text == "text" || text == "txt") return RecordFormat::text;
    if (text == "xml") return RecordFormat::xml;
    return std::nullopt;
}

Source file_source(std::string path, std::optional<RecordFormat> format) {
    Source source;
    source.path = std::move(path);
    source.format = format;
    return source;
}
Source jsonl_source(std::string path) { return file_source(std::move(path), RecordFormat::jsonl); }
Source json_source(std::string path) { return file_source(std::move(path), RecordFormat::json); }
Source csv_source(std::string path) { return file_source(std::move(path), RecordFormat::csv); }
Source text_source(std::string path, std::string field) {
    Source source = file_source(std::move(path), RecordFormat::text);
    source.text_field = std::move(field);
    return source;
}
Source sqlite_source(std::string database, std::string query) {
    Source source;
    source.kind = Source::Kind::sqlite;
    source.path = std::move(database);
    source.query = std::move(query);
    return source;
}

Source postgres_source(std::string dsn, std::string query) {
    Source source = sqlite_source(std::move(dsn), std::move(query));
    source.kind = Source::Kind::postgres;
    return source;
}

Sink file_sink(std::string path, std::optional<RecordFormat> format) {
    Sink sink;
    sink.path = std::move(path);
    sink.format = format;
    return sink;
}
Sink jsonl_sink(std::string path) { return file_sink(std::move(path), RecordFormat::jsonl); }
Sink json_sink(std::string path) { return file_sink(std::move(path), RecordFormat::json); }
Sink csv_sink(std::string path) { return file_sink(std::move(path), RecordFormat::csv); }
Sink text_sink(std::string path, std::string field) {
    Sink sink = file_sink(std::move(path), RecordFormat::text);
    sink.text_field = std::move(field);
    return sink;
}
Sink sqlite_sink(std::string database, std::string table, std::string key) {
    Sink sink;
    sink.kind = Sink::Kind::sqlite;
    sink.path = std::move(database);
    sink.table = std::move(table);
    sink.key = std::move(key);
    return sink;
}
Sink postgres_sink(std::string dsn, std::string table, std::string key) {
    Sink sink = sqlite_sink(std::move(dsn), std::move(table), std::move(key));
    sink.kind = Sink::Kind::postgres;
    return sink;
}
Sink null_sink() {
    Sink sink;
    sink.kind = Sink::Kind::none;
    return sink;
}

}  // namespace statenet

namespace statenet::detail {

std::optional<RecordFormat> format_of_path(const std::string& path) {
    std::string name = path;
    for (const char* compressed : {".gz", ".zst", ".zstd"})
        if (name.ends_with(compressed)) name.resize(name.size() - std::string_view(compressed).size());
    const auto dot = name.rfind('.');
    if (dot == std::string::npos || name.find('/', dot) != std::string::npos) return std::nullopt;
    const std::string extension = name.substr(dot + 1);
    if (extension == "txt") return RecordFormat::text;
    return parse_record_format(extension);
}

namespace {

std::unique_ptr<RecordSource> open_format(std::unique_ptr<ByteInput> input, const Sniffed& chosen,
                                          const Source& source) {
    switch (chosen.format) {
    case RecordFormat::jsonl: return make_jsonl_source(std::move(input));
    case RecordFormat::json: return make_json_array_source(std::move(input));
    case RecordFormat::csv: return make_csv_source(std::move(input), chosen.delimiter);
    case RecordFormat::text: return make_text_source(std::move(input), source.text_field);
    case RecordFormat::xml: return make_xml_source(std::move(input), source.xml_element);
    }
    throw std::invalid_argument("unknown source format");
}

}  // namespace

std::unique_ptr<RecordSource> open_source(const Source& source) {
    if (source.kind == Source::Kind::sqlite) {
        if (source.query.empty()) throw std::invalid_argument("a SQLite source needs a query");
        return make_sqlite_source(source.path, source.query);
    }
    if (source.kind == Source::Kind::postgres) {
        if (source.query.empty()) throw std::invalid_argument("a PostgreSQL source needs a query");
        return make_postgres_source(source.path, source.query);
    }
    auto input = open_input(source.path);
    Sniffed chosen{RecordFormat::jsonl, source.csv_delimiter};
    const std::optional<RecordFormat> named = format_of_path(source.path);
    if (source.format) {
        chosen.format = *source.format;
    } else if (named && !source.detect) {
        chosen.format = *named;
    } else if (std::error_code ec; source.path != "-" && std::filesystem::is_regular_file(source.path, ec)) {
        // A second look at the file, so `input` stays a plain file (seekable on resume).
        auto probe = open_input(source.path);
        chosen = sniff_input(probe);
    } else if (source.detect) {
        chosen = sniff_input(input);  // a pipe: what was read to sniff is read again
    }                                 // else stdin or a pipe, which may be a stream that has not started yet: JSONL
    auto records = open_format(std::move(input), chosen, source);
    if (source.whole) return make_whole_source(std::move(records), source.path, chosen.format);
    return records;
}

std::string source_identity(const Source& source) {
    if (source.kind == Source::Kind::sqlite) return source.path + " " + source.query;
    if (source.kind == Source::Kind::postgres) return "postgres:" + redact_dsn(source.path) + " " + source.query;
    return source.path;
}

std::unique_ptr<RecordSink> open_sink(const Sink& sink, const SinkSetup& setup) {
    switch (sink.kind) {
    case Sink::Kind::none: return make_null_sink(setup);
    case Sink::Kind::sqlite:
        if (sink.table.empty()) throw std::invalid_argument("a SQLite sink needs a table");
        return make_sqlite_sink(sink, setup);
    case Sink::Kind::postgres:
        if (sink.table.empty()) throw std::invalid_argument("a PostgreSQL sink needs a table");
        return make_postgres_sink(sink, setup);
    case Sink::Kind::file: break;
    }
    if (sink.format == RecordFormat::xml || (!sink.format && format_of_path(sink.path) == RecordFormat::xml))
        throw std::invalid_argument("XML output is not implemented (write jsonl, json, csv or text)");
    return make_file_sink(sink, sink.format.value_or(format_of_path(sink.path).value_or(RecordFormat::jsonl)), setup);
}

}  // namespace statenet::detail
