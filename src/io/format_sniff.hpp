// Which record format a file holds, from its first bytes rather than its name.
#pragma once

#include "io/byte_input.hpp"

#include <statenet/stream.hpp>

#include <memory>
#include <string>
#include <string_view>

namespace statenet::detail {

/// What the first bytes say: the format and, for CSV, the field separator.
struct Sniffed {
    RecordFormat format = RecordFormat::jsonl;
    char delimiter = ',';
};

/// The format of a file that starts with `head` (`complete`: head is the whole file).
/// `<` is XML; `{` JSON lines when the first line is a whole object, else a JSON
/// document; `[` a JSON array unless it reads like a log line ("[2024-05-01 ...]");
/// lines that split like the first (4 in 5 of them, >= 2 fields) on `,`, `;`, tab or `|`, CSV;
/// anything else, text.
Sniffed sniff_format(std::string_view head, bool complete);

/// How many bytes sniff_format looks at.
inline constexpr std::size_t sniff_bytes = 64 * 1024;

/// Reads the start of `input` (up to sniff_bytes, or fewer once it has several lines),
/// sniffs it, and gives back an input that still starts at byte 0 (`input` is replayed).
Sniffed sniff_input(std::unique_ptr<ByteInput>& input);

/// "jsonl", "json", "csv", "text", "xml".
std::string_view format_name(RecordFormat format) noexcept;

}  // namespace statenet::detail
