// libFuzzer harness: a JSONL line through the strict field scanner and simdjson. The
// scanner promises to be at least as strict as simdjson: a line it accepts must parse
// as the same object (same keys, in order) through Value::from_json.
#include "fuzz_support.hpp"

#include "json/field_scan.hpp"

#include <statenet/value.hpp>

#include <cstdint>
#include <cstdlib>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const auto text = statenet_fuzz::as_text(data, size);
    std::vector<statenet::detail::ScannedField> fields;
    const bool scanned = statenet::detail::scan_object_fields(text, fields);
    statenet::Value parsed;
    try {
        parsed = statenet::Value::from_json(text);
    } catch (const statenet::JsonError& e) {
        if (scanned) std::abort();  // the scan accepted what simdjson refuses
        if (e.offset() > size) std::abort();
        return 0;
    }
    if (!scanned || !parsed.is_object()) return 0;
    // Duplicate keys collapse in the Value (the last wins at the first's place).
    const auto& members = parsed.as_object();
    if (members.size() > fields.size()) std::abort();
    for (const auto& field : fields)
        if (!parsed.find(field.key)) std::abort();
    return 0;
}
