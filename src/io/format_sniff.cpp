// Format detection: the first bytes of a file say whether it holds XML, JSON, JSON
// lines, CSV (and with which separator) or plain text lines.
#include "io/format_sniff.hpp"

#include "io/csv.hpp"

#include <statenet/value.hpp>

#include <algorithm>
#include <utility>
#include <vector>

namespace statenet::detail {

namespace {

/// Lines looked at to tell CSV from text.
constexpr std::size_t sample_lines = 20;

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }
bool is_digit(char c) { return c >= '0' && c <= '9'; }

/// The line that starts at `from`, without its line break.
std::string_view line_at(std::string_view text, std::size_t from) {
    const std::size_t end = text.find('\n', from);
    std::string_view line = text.substr(from, end == std::string_view::npos ? std::string_view::npos : end - from);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    return line;
}

bool parses_as_json(std::string_view text) {
    try {
        (void)Value::from_json(text);
        return true;
    } catch (const JsonError&) {
        return false;
    }
}

/// After the value that ends at `at`: blanks, then ',' or ']' or the end of the line.
bool ends_json_value(std::string_view line, std::size_t at) {
    while (at < line.size() && (line[at] == ' ' || line[at] == '\t')) ++at;
    return at == line.size() || line[at] == ',' || line[at] == ']';
}

/// True when `line` (which starts with '[') begins like a JSON array rather than a log
/// line's bracketed timestamp or level.
bool opens_json_array(std::string_view line) {
    std::size_t at = 1;
    while (at < line.size() && (line[at] == ' ' || line[at] == '\t')) ++at;
    if (at == line.size()) return true;
    const char c = line[at];
    if (c == '{' || c == '[' || c == '"' || c == ']') return true;
    for (const std::string_view literal : {"true", "false", "null"})
        if (line.substr(at).starts_with(literal)) return ends_json_value(line, at + literal.size());
    if (c != '-' && !is_digit(c)) return false;
    // A JSON number: -?digits(.digits)?([eE][+-]?digits)?
    if (c == '-') ++at;
    const auto digits = [&] {
        const std::size_t from = at;
        while (at < line.size() && is_digit(line[at])) ++at;
        return at > from;
    };
    if (!digits()) return false;
    if (at < line.size() && line[at] == '.') {
        ++at;
        if (!digits()) return false;
    }
    if (at < line.size() && (line[at] == 'e' || line[at] == 'E')) {
        ++at;
        if (at < line.size() && (line[at] == '+' || line[at] == '-')) ++at;
        if (!digits()) return false;
    }
    return ends_json_value(line, at);
}

/// Occurrences of `delimiter` outside double quotes.
std::size_t fields_split(std::string_view line, char delimiter) {
    std::size_t count = 0;
    bool quoted = false;
    for (const char c : line) {
        if (c == '"') quoted = !quoted;
        else if (c == delimiter && !quoted) ++count;
    }
    return count;
}

/// The separator that splits the first line, and at least 4 in 5 of the sampled lines
/// (a bad row is no reason to read a file as text), the same number of times: the one
/// that splits most when several do; 0 when none does or there are fewer than two lines.
char csv_delimiter_of(const std::vector<std::string_view>& lines) {
    if (lines.size() < 2) return 0;
    char best = 0;
    std::size_t best_count = 0;
    for (const char delimiter : {',', ';', '\t', '|'}) {
        const std::size_t count = fields_split(lines.front(), delimiter);
        if (count == 0 || count <= best_count) continue;
        const auto same = static_cast<std::size_t>(std::count_if(
            lines.begin(), lines.end(), [&](std::string_view line) { return fields_split(line, delimiter) == count; }));
        if (same >= 2 && same * 5 >= lines.size() * 4) {
            best = delimiter;
            best_count = count;
        }
    }
    return best;
}

/// ByteInput that gives back the bytes already read, then the rest of `inner`.
class ReplayInput final : public ByteInput {
public:
    ReplayInput(std::unique_ptr<ByteInput> inner, std::string head)
        : ByteInput(inner->name()), inner_(std::move(inner)), head_(std::move(head)) {}

    std::size_t read(char* data, std::size_t size) override {
        if (at_ < head_.size()) {
            const std::size_t n = std::min(size, head_.size() - at_);
            std::copy_n(head_.data() + at_, n, data);
            at_ += n;
            return n;
        }
        return inner_->read(data, size);
    }
    std::uint64_t raw_position() const noexcept override { return inner_->raw_position(); }
    std::uint64_t raw_size() const noexcept override { return inner_->raw_size(); }
    bool compressed() const noexcept override { return inner_->compressed(); }
    bool would_block() const override { return at_ == head_.size() && inner_->would_block(); }

private:
    std::unique_ptr<ByteInput> inner_;
    std::string head_;
    std::size_t at_ = 0;
};

}  // namespace

Sniffed sniff_format(std::string_view head, bool complete) {
    if (head.starts_with(utf8_bom)) head.remove_prefix(utf8_bom.size());
    std::size_t start = 0;
    while (start < head.size() && is_space(head[start])) ++start;
    // Only whole lines count: the last one may be cut short by the sniff window.
    if (!complete) {
        const std::size_t last_break = head.rfind('\n');
        if (last_break != std::string_view::npos && last_break >= start) head = head.substr(0, last_break + 1);
    }
    if (start == head.size()) return {RecordFormat::jsonl};
    const std::string_view first = line_at(head, start);
    switch (head[start]) {
    case '<': return {RecordFormat::xml};
    case '{':
        // An object on one line is JSON lines; one spread over lines is a JSON document.
        if (parses_as_json(first)) return {RecordFormat::jsonl};
        return {first.size() == head.size() - start && !complete ? RecordFormat::jsonl : RecordFormat::json};
    case '[':
        if (opens_json_array(first)) return {RecordFormat::json};
        break;
    default: break;
    }
    std::vector<std::string_view> lines;
    for (std::size_t at = start; at < head.size() && lines.size() < sample_lines;) {
        const std::string_view line = line_at(head, at);
        if (!line.empty()) lines.push_back(line);
        const std::size_t next = head.find('\n', at);
        if (next == std::string_view::npos) break;
        at = next + 1;
    }
    if (const char delimiter = csv_delimiter_of(lines)) return {RecordFormat::csv, delimiter};
    return {RecordFormat::text};
}

Sniffed sniff_input(std::unique_ptr<ByteInput>& input) {
    std::string head(sniff_bytes, '\0');
    std::size_t size = 0;
    bool complete = false;
    // A pipe gives what it has: stop once enough lines are in, rather than wait for more.
    while (size < head.size() &&
           std::count(head.data(), head.data() + size, '\n') < static_cast<std::ptrdiff_t>(sample_lines)) {
        const std::size_t n = input->read(head.data() + size, head.size() - size);
        if (n == 0) {
            complete = true;
            break;
        }
        size += n;
    }
    head.resize(size);
    const Sniffed sniffed = sniff_format(head, complete);
    input = std::make_unique<ReplayInput>(std::move(input), std::move(head));
    return sniffed;
}

std::string_view format_name(RecordFormat format) noexcept {
    switch (format) {
    case RecordFormat::jsonl: return "jsonl";
    case RecordFormat::json: return "json";
    case RecordFormat::csv: return "csv";
    case RecordFormat::text: return "text";
    case RecordFormat::xml: return "xml";
    }
    return "jsonl";
}

}  // namespace statenet::detail
