// JSONL input: one JSON record per line, parsed later on a worker; blank lines are skipped.
#include "io/line_source.hpp"

namespace statenet::detail {

namespace {

class JsonlSource final : public LineSource {
public:
    explicit JsonlSource(std::unique_ptr<ByteInput> input) : LineSource(std::move(input)) {}

    bool next(RawRecord& record) override {
        std::string_view line;
        while (lines_.next(line)) {
            if (is_blank(line)) continue;
            start(record);
            record.text.assign(line);
            return true;
        }
        return false;
    }
};

}  // namespace

std::unique_ptr<RecordSource> make_jsonl_source(std::unique_ptr<ByteInput> input) {
    return std::make_unique<JsonlSource>(std::move(input));
}

}  // namespace statenet::detail
