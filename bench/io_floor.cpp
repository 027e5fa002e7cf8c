// Baseline B, the I/O floor: parse each JSONL record and write it back unchanged, no Lua.
//
//   io_floor IN.jsonl OUT.jsonl [--value]
//
// Default: simdjson's DOM parser over the stream (parse_many) and simdjson::minify per
// record. --value: statenet::Value::from_json + Value::to_json per line instead, i.e. the
// cost of the engine's own record type at the edges.
#include <statenet/value.hpp>

#include <simdjson.h>

#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>

namespace {

constexpr std::size_t chunk_size = 8 << 20;

struct file_closer {
    void operator()(std::FILE* f) const { std::fclose(f); }
};
using file_ptr = std::unique_ptr<std::FILE, file_closer>;

void flush_if_full(std::string& out, std::FILE* f, bool force = false) {
    if (force || out.size() >= (1 << 20)) {
        std::fwrite(out.data(), 1, out.size(), f);
        out.clear();
    }
}

// Reads IN in chunks cut at the last newline and hands each run of whole lines to `fn`.
// The buffer keeps simdjson's padding after the data.
template <typename Fn>
bool for_each_chunk(std::FILE* in, Fn&& fn) {
    std::unique_ptr<char[]> buf(new char[chunk_size + simdjson::SIMDJSON_PADDING]);
    std::size_t used = 0;
    for (;;) {
        std::size_t got = std::fread(buf.get() + used, 1, chunk_size - used, in);
        used += got;
        if (used == 0) return true;
        std::size_t cut = used;
        if (got != 0) {
            const char* nl = static_cast<const char*>(memrchr(buf.get(), '\n', used));
            if (nl == nullptr) {
                std::fprintf(stderr, "io_floor: a line is longer than %zu bytes\n", chunk_size);
                return false;
            }
            cut = static_cast<std::size_t>(nl - buf.get()) + 1;
        }
        // simdjson reads past `cut` into the allocated padding; it never looks at the bytes.
        if (!fn(buf.get(), cut)) return false;
        std::size_t tail = used - cut;
        std::memmove(buf.get(), buf.get() + cut, tail);
        used = tail;
        if (got == 0) return true;
    }
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 3) {
        std::fprintf(stderr, "usage: %s IN.jsonl OUT.jsonl [--value]\n", argv[0]);
        return 2;
    }
    const bool via_value = argc > 3 && std::string_view(argv[3]) == "--value";
    file_ptr in(std::fopen(argv[1], "rb"));
    file_ptr out(std::fopen(argv[2], "wb"));
    if (!in || !out) {
        std::perror("io_floor");
        return 2;
    }
    std::string buffer;
    buffer.reserve((1 << 20) + 4096);
    std::size_t records = 0;
    simdjson::dom::parser parser;

    bool ok = for_each_chunk(in.get(), [&](const char* data, std::size_t len) {
        if (via_value) {
            std::string_view rest(data, len);
            while (!rest.empty()) {
                std::size_t nl = rest.find('\n');
                std::string_view line = rest.substr(0, nl);
                rest.remove_prefix(nl == std::string_view::npos ? rest.size() : nl + 1);
                if (line.empty()) continue;
                buffer += statenet::Value::from_json(line).to_json();
                buffer += '\n';
                ++records;
                flush_if_full(buffer, out.get());
            }
            return true;
        }
        simdjson::dom::document_stream docs;
        if (auto error = parser.parse_many(data, len, 1 << 20).get(docs)) {
            std::fprintf(stderr, "io_floor: %s\n", simdjson::error_message(error));
            return false;
        }
        for (auto doc : docs) {
            simdjson::dom::element element;
            if (auto error = doc.get(element)) {
                std::fprintf(stderr, "io_floor: record %zu: %s\n", records + 1, simdjson::error_message(error));
                return false;
            }
            buffer += simdjson::minify(element);
            buffer += '\n';
            ++records;
            flush_if_full(buffer, out.get());
        }
        return true;
    });
    flush_if_full(buffer, out.get(), true);
    std::fprintf(stderr, "io_floor: %zu records (%s)\n", records, via_value ? "statenet::Value" : "simdjson");
    return ok ? 0 : 1;
}
