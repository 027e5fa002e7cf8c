// libFuzzer harness: a CSV file through the CSV source (header, rows spanning lines,
// row parsing and typing), and each row's fields written back by the CSV sink's field
// writer and read again: a field must read back as the same value.
#include "fuzz_support.hpp"

#include "io/csv.hpp"
#include "io/record_source.hpp"

#include <cstdint>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

void check_round_trip(std::string_view row) {
    std::vector<statenet::detail::CsvField> fields;
    std::string error;
    if (statenet::detail::split_csv_row(row, fields, error) != statenet::detail::CsvRow::complete) return;
    std::string written;
    for (std::size_t i = 0; i < fields.size(); ++i) {
        if (i) written += ',';
        statenet::detail::append_csv_field(written, statenet::detail::csv_field_value(fields[i]));
    }
    std::vector<statenet::detail::CsvField> again;
    if (statenet::detail::split_csv_row(written, again, error) != statenet::detail::CsvRow::complete) std::abort();
    if (again.size() != fields.size()) std::abort();
    for (std::size_t i = 0; i < fields.size(); ++i)
        if (statenet::detail::csv_field_value(again[i]).to_json() !=
            statenet::detail::csv_field_value(fields[i]).to_json())
            std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    check_round_trip(statenet_fuzz::as_text(data, size));
    const auto file = statenet_fuzz::write_input("fuzz.csv", data, size);
    try {
        statenet::Source source;
        source.path = file.string();
        source.format = statenet::RecordFormat::csv;
        auto records = statenet::detail::open_source(source);
        statenet::detail::RawRecord record;
        while (records->next(record)) {
            statenet::Value value;
            if (!record.error) (void)record.parser->parse(record.text, value);
        }
    } catch (const std::runtime_error&) {  // a bad header fails the file
    }
    return 0;
}
