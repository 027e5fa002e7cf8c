// `map = { ... }` on a state: its sub-network, where its items come from, how they are
// batched, how many run at once, how many may fail, and where the results go.
#include "load/builder.hpp"
#include "resources/sqlite_values.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <filesystem>

namespace statenet::detail {

namespace {

/// "a.b.c" -> {"a", "b", "c"}; empty when a part is empty.
std::vector<std::string> dotted(const std::string& text) {
    std::vector<std::string> parts;
    std::size_t from = 0;
    for (;;) {
        const std::size_t dot = text.find('.', from);
        parts.push_back(text.substr(from, dot == std::string::npos ? std::string::npos : dot - from));
        if (parts.back().empty()) return {};
        if (dot == std::string::npos) return parts;
        from = dot + 1;
    }
}

}  // namespace

std::string Builder::workflow_path(const std::string& path) const {
    const std::filesystem::path p(path);
    return p.is_absolute() ? path : (std::filesystem::path(m_.dir) / p).lexically_normal().string();
}

std::vector<std::string> Builder::field_path(const Node& table, std::string_view key) {
    auto text = string_of(table, key, false);
    if (!text) return {};
    auto parts = dotted(*text);
    if (parts.empty())
        d_.error(table.field(key)->loc, fmt::format("'{}' must be a field name or a dotted path (a.b.c)", key));
    return parts;
}

/// A resource of `type` named at `key`, as an index into Model::resources (-1 if not).
int Builder::resource_of(const Node& table, std::string_view key, std::string_view type) {
    auto name = string_of(table, key, true);
    if (!name) return -1;
    std::vector<std::string_view> declared;
    for (std::size_t i = 0; i < m_.resources.size(); ++i) {
        if (m_.resources[i].name == *name) {
            if (m_.resources[i].type == type) return static_cast<int>(i);
            d_.error(table.field(key)->loc,
                     fmt::format("resource '{}' is of type '{}', not '{}'", *name, m_.resources[i].type, type));
            return -1;
        }
        if (m_.resources[i].type == type) declared.push_back(m_.resources[i].name);
    }
    d_.error(table.field(key)->loc, fmt::format("unknown {} resource '{}'{}", type, *name, suggest(*name, declared)));
    return -1;
}

void Builder::read_map(State& state, const Node& body) {
    if (body.kind != Kind::table) return wrong_kind(body, "map", "table");
    check_keys(body, map_keys, "map");
    Map m;
    m.loc = body.loc;
    if (auto net = string_of(body, "network", true)) {
        std::vector<std::string_view> nets;
        for (const auto& n : m_.networks) nets.push_back(n.name);
        const auto it = std::find(nets.begin(), nets.end(), *net);
        if (it == nets.end())
            d_.error(body.field("network")->loc,
                     fmt::format("unknown network '{}' in map{}", *net, suggest(*net, nets)));
        else m.network = static_cast<int>(it - nets.begin());
    }
    m.items = field_path(body, "items");
    if (const Node* reader = body.field("reader")) read_map_reader(m, *reader);
    if (m.items.empty() == !m.reader)
        d_.error(body.loc, "'map' needs either 'items' (a record field) or 'reader' (an item reader), not both");
    if (const Node* batch = body.field("batch")) {
        if (batch->kind != Kind::table) {
            wrong_kind(*batch, "batch", "table");
        } else {
            check_keys(*batch, {"max_items", "max_bytes", "flatten"}, "batch");
            m.batch_flatten = bool_of(*batch, "flatten").value_or(false);
            m.batch_items = integer_in(*batch, "max_items", 1, max_count).value_or(0);
            m.batch_bytes = integer_in(*batch, "max_bytes", 1, max_count).value_or(0);
            if (m.batch_items == 0 && m.batch_bytes == 0)
                d_.error(batch->loc, "'batch' needs 'max_items' or 'max_bytes'");
            if (m.batch_items == 0) m.batch_items = max_count;
        }
    }
    m.max_concurrency = integer_in(body, "max_concurrency", 1, 4096).value_or(0);
    m.workers = integer_in(body, "workers", 1, 256).value_or(1);
    if (const Node* t = body.field("tolerated_failures")) read_tolerance(m, *t);
    if (body.field("result_path")) m.result_path = field_path(body, "result_path");
    if (body.field("failures_path")) m.failures_path = field_path(body, "failures_path");
    if (const Node* sink = body.field("sink")) read_map_sink(m, *sink);
    if (m.batch_flatten && !m.sink)
        d_.error(body.field("batch")->loc, "'flatten' needs a 'sink' (it writes each batch's items there)");
    if (auto checkpoint = string_of(body, "checkpoint", false)) {
        if (!m.sink || m.sink->kind != Sink::Kind::file)
            d_.error(body.field("checkpoint")->loc, "'checkpoint' needs a file 'sink'");
        m.checkpoint = workflow_path(*checkpoint);
    }
    if (auto errors = string_of(body, "errors", false)) m.errors = workflow_path(*errors);
    if (m.reader && !m.reader->watermark.empty()) {
        if (!m.sink || m.sink->kind == Sink::Kind::file)
            d_.error(body.field("reader")->loc,
                     "a reader's 'watermark' needs a database table 'sink' (the watermark is kept beside the table)");
        else if (m.replace)
            d_.error(body.field("reader")->loc,
                     "a sink that replaces its table takes no 'watermark' (it reads every row)");
    }
    m.map_in = field_map(body.field("map_in"), "map_in");
    m.map_out = field_map(body.field("map_out"), "map_out");
    if (state.parallel) d_.error(body.loc, "a state is either 'parallel' or 'map', not both");
    state.map = std::move(m);
}

/// `tolerated_failures = N` (items) or `"P%"` (of all items).
void Builder::read_tolerance(Map& m, const Node& t) {
    if (t.kind == Kind::integer && t.integer >= 0 && t.integer <= max_count) {
        m.tolerated_count = t.integer;
        return;
    }
    if (t.kind == Kind::string && t.str.size() > 1 && t.str.back() == '%') {
        double percent = -1;
        const char* end = t.str.data() + t.str.size() - 1;
        const auto [at, ec] = std::from_chars(t.str.data(), end, percent);
        if (ec == std::errc() && at == end && percent >= 0 && percent <= 100) {
            m.tolerated_percent = percent;
            return;
        }
    }
    d_.error(t.loc, "'tolerated_failures' must be a count (an integer >= 0) or a percentage (\"10%\")");
}

/// `reader = { type = "jsonl" | "csv" | "json", path = ... }`, `{ type = "sqlite" |
/// "postgres", resource = ..., query = ... }`, `{ type = "glob", pattern = ... }`, or a
/// host reader's type with its own keys (checked when the workflow is assembled).
void Builder::read_map_reader(Map& m, const Node& body) {
    if (body.kind != Kind::table) return wrong_kind(body, "reader", "table");
    MapReader r;
    r.loc = body.loc;
    r.params = to_value(body);
    r.type = string_of(body, "type", true).value_or("");
    if (r.type == "jsonl" || r.type == "csv" || r.type == "json") {
        check_keys(body, {"type", "path"}, "reader");
        if (auto path = string_of(body, "path", true)) r.path = workflow_path(*path);
    } else if (r.type == "file") {
        read_file_reader(r, body);
    } else if (r.type == "sqlite" || r.type == "postgres") {
        check_keys(body, {"type", "resource", "query", "watermark"}, "reader");
        r.resource = resource_of(body, "resource", r.type);
        r.query = string_of(body, "query", true).value_or("");
        r.watermark = string_of(body, "watermark", false).value_or("");
        if (!r.watermark.empty() && !is_identifier(r.watermark))
            d_.error(body.field("watermark")->loc,
                     fmt::format("'watermark' must be a column name (letters, digits, _), not '{}'", r.watermark));
    } else if (r.type == "glob") {
        check_keys(body, {"type", "pattern"}, "reader");
        if (auto pattern = string_of(body, "pattern", true)) r.path = workflow_path(*pattern);
    }
    m.reader = std::move(r);
}

/// `reader = { type = "file", path, format = "auto", element, delimiter, whole, text_field }`:
/// any file the engine reads, its format named or found from its first bytes.
void Builder::read_file_reader(MapReader& r, const Node& body) {
    check_keys(body, {"type", "path", "format", "element", "delimiter", "whole", "text_field"}, "reader");
    if (auto path = string_of(body, "path", true)) r.path = workflow_path(*path);
    r.file = file_source(r.path);
    const auto format = string_of(body, "format", false).value_or("auto");
    if (format == "auto") {
        r.file.detect = true;
    } else {
        r.file.format = parse_record_format(format);
        if (!r.file.format)
            d_.error(body.field("format")->loc,
                     fmt::format("'format' must be auto, jsonl, json, csv, xml or text{}",
                                 suggest(format, {"auto", "jsonl", "json", "csv", "xml", "text"})));
    }
    // An empty element or delimiter is one not given (a pattern passes its params' defaults).
    if (auto element = string_of(body, "element", false)) r.file.xml_element = *element;
    if (auto delimiter = string_of(body, "delimiter", false); delimiter && !delimiter->empty()) {
        const Loc& loc = body.field("delimiter")->loc;
        if (*delimiter == "\\t" || *delimiter == "tab") *delimiter = "\t";
        if (delimiter->size() != 1 || *delimiter == "\"" || *delimiter == "\n" || *delimiter == "\r")
            d_.error(loc, "'delimiter' must be one character other than a quote or a line break (or tab)");
        else if (r.file.format != RecordFormat::csv)
            d_.error(loc, "'delimiter' needs format = \"csv\" (a detected CSV's delimiter is found with it)");
        else r.file.csv_delimiter = (*delimiter)[0];
    }
    r.file.whole = bool_of(body, "whole").value_or(false);
    if (auto field = string_of(body, "text_field", false)) r.file.text_field = *field;
}

/// `sink = { path = "out.jsonl" }` (a file, format by extension or `format`),
/// `sink = { resource = "db", table = "results", key = "id" }` (a sqlite or postgres table)
/// or `sink = { database = "out.db", table = "results", key = "id" }` (a SQLite file).
void Builder::read_map_sink(Map& m, const Node& body) {
    if (body.kind != Kind::table) return wrong_kind(body, "sink", "table");
    check_keys(body, {"path", "format", "resource", "database", "table", "key", "replace"}, "sink");
    Sink sink;
    if (body.field("database")) {
        if (body.field("path") || body.field("resource"))
            d_.error(body.loc, "'sink' takes one of 'path', 'resource' or 'database'");
        sink = sqlite_sink(workflow_path(string_of(body, "database", true).value_or("")),
                           string_of(body, "table", true).value_or(""), string_of(body, "key", false).value_or(""));
    } else if (body.field("path")) {
        sink = file_sink(workflow_path(string_of(body, "path", true).value_or("")));
        if (auto format = string_of(body, "format", false)) {
            sink.format = parse_record_format(*format);
            if (sink.format == RecordFormat::xml)
                d_.error(body.field("format")->loc, "XML output is not implemented (write jsonl, json, csv or text)");
            else if (!sink.format)
                d_.error(body.field("format")->loc, fmt::format("'format' must be jsonl, json, csv or text{}",
                                                                suggest(*format, {"jsonl", "json", "csv", "text"})));
        }
        if (!sink.format && std::filesystem::path(sink.path).extension() == ".xml")
            d_.error(body.field("path")->loc, "XML output is not implemented (write jsonl, json, csv or text)");
        if (body.field("table")) d_.error(body.field("table")->loc, "a file sink has no 'table'");
    } else if (body.field("resource")) {
        const Node* name = body.field("resource");
        const bool postgres = name->kind == Kind::string &&
                              std::any_of(m_.resources.begin(), m_.resources.end(), [&](const ResourceDecl& r) {
                                  return r.name == name->str && r.type == "postgres";
                              });
        const int id = resource_of(body, "resource", postgres ? "postgres" : "sqlite");
        const std::string table = string_of(body, "table", true).value_or("");
        const std::string key = string_of(body, "key", false).value_or("");
        if (id >= 0) {
            const ResourceDecl& r = m_.resources[static_cast<std::size_t>(id)];
            sink = postgres ? postgres_sink(r.postgres.dsn, table, key) : sqlite_sink(r.path, table, key);
        }
    } else {
        d_.error(body.loc, "'sink' needs 'path' (a file), or 'resource' or 'database' with 'table' (a database table)");
    }
    if (auto replace = bool_of(body, "replace")) {
        if (*replace && !body.field("resource"))
            d_.error(body.field("replace")->loc, "'replace' needs a database table sink ('resource' and 'table')");
        else m.replace = *replace;
    }
    m.sink = std::move(sink);
}

}  // namespace statenet::detail
