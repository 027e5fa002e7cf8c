// JSON record text to a record: any JSON object or array; scalars and bad JSON are named failures.
#include "io/record_source.hpp"

#include <fmt/format.h>

namespace statenet::detail {

namespace {

class JsonRecordParser final : public RecordParser {
public:
    std::optional<ParseFailure> parse(std::string_view text, Value& record) const override {
        try {
            record = Value::from_json(text);
        } catch (const JsonError& e) {
            return ParseFailure{{"InvalidJson", e.what(), ""}, true};
        }
        // The engine would run a scalar as an empty record; the user would never see why.
        if (!record.is_object() && !record.is_array())
            return ParseFailure{
                {"InvalidRecord", fmt::format("a record must be a JSON object (got {})", type_name(record.type())), ""},
                false};
        return std::nullopt;
    }
};

}  // namespace

const RecordParser& json_record_parser() {
    static const JsonRecordParser parser;
    return parser;
}

}  // namespace statenet::detail
