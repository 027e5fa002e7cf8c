// CSV input: a header row names the fields; each later row is one record. The reader only
// finds where rows end; the workers split and type the fields.
#include "io/csv.hpp"
#include "io/line_source.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <stdexcept>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

namespace statenet::detail {

namespace {

/// A row's text to a record, by the header's names.
class CsvRowParser final : public RecordParser {
public:
    std::optional<ParseFailure> parse(std::string_view text, Value& record) const override {
        thread_local std::vector<CsvField> fields;
        std::string error;
        if (split_csv_row(text, fields, error, delimiter) != CsvRow::complete)
            return ParseFailure{{"InvalidCsv", std::move(error), ""}, true};
        if (fields.size() != header.size())
            return ParseFailure{
                {"InvalidCsv", fmt::format("the row has {} fields, the header has {}", fields.size(), header.size()),
                 ""},
                true};
        Value::Object members;
        members.reserve(header.size());
        for (std::size_t i = 0; i < header.size(); ++i) members.emplace_back(header[i], csv_field_value(fields[i]));
        record = Value(std::move(members));
        return std::nullopt;
    }

    std::vector<std::string> header;
    char delimiter = ',';
};

/// True when the text leaves a quoted field open: an odd number of quotes, since an
/// escaped quote is a pair.
bool opens_quote(std::string_view text, bool open) {
    return (std::count(text.begin(), text.end(), '"') % 2 == 1) != open;
}

class CsvSource final : public LineSource {
public:
    CsvSource(std::unique_ptr<ByteInput> input, char delimiter) : LineSource(std::move(input)) {
        parser_.delimiter = delimiter;
        read_header();
    }

    bool next(RawRecord& record) override {
        std::string_view line;
        while (lines_.next(line)) {
            if (line.empty()) continue;
            start(record);
            record.parser = &parser_;
            record.text.assign(line);
            if (!read_rest_of_row(record.text))
                record.error = ErrorInfo{"InvalidCsv", "the input ends inside a quoted field", ""};
            record.end = lines_.position();
            record.end_line = lines_.line_number();
            return true;
        }
        return false;
    }

private:
    /// Appends the lines a quoted field spans; false when the input ends inside it.
    bool read_rest_of_row(std::string& text) {
        bool open = opens_quote(text, false);
        std::string_view more;
        while (open) {
            if (!lines_.next(more)) return false;
            text += '\n';
            text.append(more);
            open = opens_quote(more, open);
        }
        return true;
    }

    void read_header() {
        std::string_view line;
        while (lines_.next(line) && line.empty()) {}
        if (line.empty()) return;  // an empty input has no records
        // A spreadsheet's export starts with a byte order mark: not part of the first name.
        if (line.starts_with(utf8_bom)) line.remove_prefix(utf8_bom.size());
        std::string text(line);
        std::vector<CsvField> fields;
        std::string error;
        if (!read_rest_of_row(text)) error = "the input ends inside a quoted field";
        else split_csv_row(text, fields, error, parser_.delimiter);
        if (!error.empty()) throw std::runtime_error(fmt::format("{}: CSV header: {}", input_->name(), error));
        // A hash set keeps the duplicate check linear: a header may have 100,000 columns.
        std::unordered_set<std::string_view> seen;
        seen.reserve(fields.size());
        for (std::size_t i = 0; i < fields.size(); ++i) {
            const std::string& name = fields[i].text;
            if (name.empty())
                throw std::runtime_error(fmt::format("{}: CSV header: column {} has no name", input_->name(), i + 1));
            if (!seen.insert(name).second)
                throw std::runtime_error(
                    fmt::format("{}: CSV header: column '{}' appears twice", input_->name(), name));
        }
        auto& header = parser_.header;
        header.reserve(fields.size());
        for (auto& field : fields) header.push_back(std::move(field.text));
    }

    CsvRowParser parser_;
};

}  // namespace

std::unique_ptr<RecordSource> make_csv_source(std::unique_ptr<ByteInput> input, char delimiter) {
    return std::make_unique<CsvSource>(std::move(input), delimiter);
}

}  // namespace statenet::detail
