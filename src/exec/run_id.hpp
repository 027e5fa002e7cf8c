// RunId: a record run's random id, kept as its 128 bits and turned into UUID text only
// where someone reads it (the Result, ctx.run_id, the history writer's thread).
#pragma once

#include <cstdint>
#include <string_view>

namespace statenet::detail {

struct RunId {
    std::uint64_t hi = 0, lo = 0;

    static constexpr int text_length = 36;

    /// Writes the id as a version 4 UUID (36 characters, no terminator) into `out`.
    void format(char* out) const noexcept {
        const std::uint64_t h = (hi & 0xffffffffffff0fffULL) | 0x0000000000004000ULL;  // version 4
        const std::uint64_t l = (lo & 0x3fffffffffffffffULL) | 0x8000000000000000ULL;  // variant 1
        static constexpr char digits[] = "0123456789abcdef";
        int at = 0;
        auto put = [&](std::uint64_t bits, int nibbles) {
            for (int i = nibbles - 1; i >= 0; --i) out[at++] = digits[(bits >> (4 * i)) & 0xf];
        };
        put(h >> 32, 8);
        out[at++] = '-';
        put(h >> 16, 4);
        out[at++] = '-';
        put(h, 4);
        out[at++] = '-';
        put(l >> 48, 4);
        out[at++] = '-';
        put(l, 12);
    }

    /// Reads the text format() writes (36 characters, dashes where it puts them) into
    /// `id`; false for anything else.
    static bool parse(std::string_view text, RunId& id) noexcept {
        if (text.size() != static_cast<std::size_t>(text_length)) return false;
        std::uint64_t bits[2] = {0, 0};
        int nibble = 0;
        for (std::size_t i = 0; i < text.size(); ++i) {
            const char c = text[i];
            if (i == 8 || i == 13 || i == 18 || i == 23) {
                if (c != '-') return false;
                continue;
            }
            int v;
            if (c >= '0' && c <= '9') v = c - '0';
            else if (c >= 'a' && c <= 'f') v = c - 'a' + 10;
            else return false;
            bits[nibble / 16] = (bits[nibble / 16] << 4) | static_cast<std::uint64_t>(v);
            ++nibble;
        }
        id.hi = bits[0];
        id.lo = bits[1];
        return true;
    }
};

}  // namespace statenet::detail
