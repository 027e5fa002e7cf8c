// A pre-scan of TOML text for how deeply it nests, before toml++ parses it.
#include "load/toml_nesting.hpp"

#include <statenet/value.hpp>

#include <algorithm>

namespace statenet::detail {

namespace {

// A TOML reader that follows only the structure: table headers, keys, and the arrays
// and inline tables of values; strings and comments are skipped. It stops at the first
// place nested deeper than the limit, so its recursion is bounded by the limit too.
class nesting_scanner {
public:
    explicit nesting_scanner(std::string_view text) : s_(text) {}

    std::optional<std::size_t> run() {
        while (!excess_) {
            skip_space(true);
            if (i_ >= s_.size()) break;
            const std::size_t before = i_;
            if (s_[i_] == '[') header();
            else key_value(table_level_);
            if (i_ == before) ++i_;  // malformed text: the parser will say what is wrong
        }
        return excess_;
    }

private:
    /// Past spaces and tabs, and line breaks and comments too when `lines` is set (a
    /// comment always runs to the end of its line).
    void skip_space(bool lines) {
        while (i_ < s_.size()) {
            const char c = s_[i_];
            if (c == ' ' || c == '\t' || (lines && (c == '\n' || c == '\r'))) ++i_;
            else if (c == '#' && lines)
                while (i_ < s_.size() && s_[i_] != '\n') ++i_;
            else break;
        }
    }

    bool at(std::string_view token) const { return s_.substr(i_, token.size()) == token; }

    /// Past a string at i_: basic or literal, one-line or multi-line. An unterminated
    /// one-line string ends at its line's end.
    void skip_string() {
        const char quote = s_[i_];
        const std::string_view triple = quote == '"' ? "\"\"\"" : "'''";
        const bool escapes = quote == '"';
        if (at(triple)) {
            i_ += 3;
            while (i_ < s_.size() && !at(triple)) i_ += escapes && s_[i_] == '\\' ? 2 : 1;
            i_ = std::min(s_.size(), i_ + 3);
            // A multi-line string may end with up to two more quotes ("""a"""").
            while (i_ < s_.size() && s_[i_] == quote) ++i_;
            return;
        }
        for (++i_; i_ < s_.size() && s_[i_] != quote && s_[i_] != '\n'; ++i_)
            if (escapes && s_[i_] == '\\') ++i_;
        if (i_ < s_.size() && s_[i_] == quote) ++i_;
    }

    static bool ends_bare_key(char c) {
        return std::string_view(".= \t\r\n#[]{},\"'").find(c) != std::string_view::npos;
    }

    /// Past a key (`a`, `a.b`, `"x.y".'z'`); how many segments it has.
    int key_segments() {
        int segments = 1;
        for (;;) {
            skip_space(false);
            if (i_ < s_.size() && (s_[i_] == '"' || s_[i_] == '\'')) skip_string();
            else
                while (i_ < s_.size() && !ends_bare_key(s_[i_])) ++i_;
            skip_space(false);
            if (i_ >= s_.size() || s_[i_] != '.') return segments;
            segments = std::min(segments + 1, max_nesting_depth + 1);  // enough to say it is too deep
            ++i_;
        }
    }

    /// A container (table, array, inline table) at `level`, opened at `where`: false,
    /// and the place noted, when that is too deep.
    bool enter(int level, std::size_t where) {
        if (level <= max_nesting_depth) return true;
        excess_ = where;
        return false;
    }

    /// `[a.b]` (the table at level 1 + segments) or `[[a.b]]` (its elements, one deeper).
    void header() {
        const std::size_t start = i_;
        const bool array = at("[[");
        i_ += array ? 2 : 1;
        const int level = 1 + key_segments() + (array ? 1 : 0);
        if (!enter(level, start)) return;
        table_level_ = level;
        while (i_ < s_.size() && s_[i_] == ']') ++i_;
    }

    /// `a.b.c = value` in a table at `level`: the dotted key opens a table per segment
    /// but the last, and the value sits one level below the last of them.
    void key_value(int level) {
        const std::size_t start = i_;
        const int segments = key_segments();
        if (!enter(level + segments - 1, start)) return;
        if (i_ >= s_.size() || s_[i_] != '=') return;
        ++i_;
        value(level + segments);
    }

    void value(int level) {
        skip_space(false);
        if (i_ >= s_.size()) return;
        switch (s_[i_]) {
        case '[': return container(level, ']');
        case '{': return container(level, '}');
        case '"':
        case '\'': return skip_string();
        default:
            while (i_ < s_.size() && std::string_view(",]}\n#").find(s_[i_]) == std::string_view::npos) ++i_;
        }
    }

    /// An array (items one level deeper) or an inline table (key = value pairs).
    void container(int level, char close) {
        if (!enter(level, i_)) return;
        ++i_;
        while (!excess_) {
            skip_space(true);
            if (i_ >= s_.size()) return;
            if (s_[i_] == close) {
                ++i_;
                return;
            }
            const std::size_t before = i_;
            if (s_[i_] == ',') ++i_;
            else if (close == ']') value(level + 1);
            else key_value(level);
            if (i_ == before) return;  // malformed: nothing more to learn here
        }
    }

    std::string_view s_;
    std::size_t i_ = 0;
    int table_level_ = 1;  // the table key/value lines go into: the root, or the last header's
    std::optional<std::size_t> excess_;
};

Loc loc_at(std::string_view text, std::size_t offset, const std::string& file) {
    const std::string_view before = text.substr(0, offset);
    const std::size_t line_start = before.rfind('\n') == std::string_view::npos ? 0 : before.rfind('\n') + 1;
    const auto line = 1 + std::count(before.begin(), before.end(), '\n');
    return {file, static_cast<int>(line), static_cast<int>(offset - line_start + 1)};
}

}  // namespace

std::optional<Loc> find_excess_nesting(std::string_view text, const std::string& file) {
    const auto offset = nesting_scanner(text).run();
    if (!offset) return std::nullopt;
    return loc_at(text, *offset, file);
}

}  // namespace statenet::detail
