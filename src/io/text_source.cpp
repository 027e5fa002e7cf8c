// Text input: every line is a record `{ <field> = "the line" }`.
#include "io/line_source.hpp"

#include <string>
#include <utility>

namespace statenet::detail {

namespace {

class TextSource final : public LineSource {
public:
    TextSource(std::unique_ptr<ByteInput> input, std::string field)
        : LineSource(std::move(input)), field_(std::move(field)) {}

    bool next(RawRecord& record) override {
        std::string_view line;
        if (!lines_.next(line)) return false;
        start(record);
        record.text.clear();
        record.value = Value::object({{field_, Value(line)}});
        return true;
    }

private:
    std::string field_;
};

}  // namespace

std::unique_ptr<RecordSource> make_text_source(std::unique_ptr<ByteInput> input, std::string field) {
    return std::make_unique<TextSource>(std::move(input), std::move(field));
}

}  // namespace statenet::detail
