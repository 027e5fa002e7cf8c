// The Lua lexer (lua/lua_lexer.hpp).
#include "lua/lua_lexer.hpp"

#include <algorithm>
#include <iterator>
#include <optional>
#include <string>

namespace statenet::detail {

namespace {

bool is_name_start(char c) {
    const auto u = static_cast<unsigned char>(c);
    return (u >= 'a' && u <= 'z') || (u >= 'A' && u <= 'Z') || c == '_' || u >= 0x80;
}

bool digit(char c) { return c >= '0' && c <= '9'; }

bool is_name_char(char c) { return is_name_start(c) || digit(c); }

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }

}  // namespace

bool is_lua_keyword(std::string_view word) {
    static constexpr std::string_view keywords[] = {
        "and", "break", "do",  "else", "elseif", "end",    "false",  "for",  "function", "goto",  "if",
        "in",  "local", "nil", "not",  "or",     "repeat", "return", "then", "true",     "until", "while"};
    return std::find(std::begin(keywords), std::end(keywords), word) != std::end(keywords);
}

namespace {

/// The level of a long bracket opening at `pos` ("[[" is 0, "[==[" is 2), if one does.
std::optional<std::size_t> long_bracket(std::string_view s, std::size_t pos) {
    if (pos >= s.size() || s[pos] != '[') return std::nullopt;
    std::size_t i = pos + 1;
    while (i < s.size() && s[i] == '=') ++i;
    if (i < s.size() && s[i] == '[') return i - pos - 1;
    return std::nullopt;
}

/// Skips a long string or comment whose body starts at `body`; returns the offset past
/// its closing bracket and sets `body_end`.
std::size_t skip_long(std::string_view s, std::size_t body, std::size_t level, std::size_t& body_end) {
    const std::string close = "]" + std::string(level, '=') + "]";
    const std::size_t at = s.find(close, body);
    if (at == std::string_view::npos) {
        body_end = s.size();
        return s.size();
    }
    body_end = at;
    return at + close.size();
}

std::size_t skip_short_string(std::string_view s, std::size_t i, bool& escaped) {
    const char quote = s[i++];
    while (i < s.size() && s[i] != quote && s[i] != '\n') {
        if (s[i] == '\\') {
            escaped = true;
            ++i;
        }
        ++i;
    }
    return std::min(i, s.size());
}

std::size_t skip_number(std::string_view s, std::size_t i) {
    ++i;
    while (i < s.size() &&
           (is_name_char(s[i]) || s[i] == '.' ||
            ((s[i] == '+' || s[i] == '-') && std::string_view("eEpP").find(s[i - 1]) != std::string_view::npos)))
        ++i;
    return i;
}

}  // namespace

std::vector<lua_token> lua_tokens(std::string_view s) {
    std::vector<lua_token> out;
    std::size_t i = 0;
    if (s.starts_with('#')) i = std::min(s.find('\n'), s.size());  // luaL_loadfile skips it
    while (i < s.size()) {
        const std::size_t start = i;
        const char c = s[i];
        if (is_space(c)) {
            ++i;
        } else if (s.compare(i, 2, "--") == 0) {
            std::size_t body_end = 0;
            if (auto level = long_bracket(s, i + 2)) i = skip_long(s, i + 4 + *level, *level, body_end);
            else i = std::min(s.find('\n', i), s.size());
        } else if (auto level = long_bracket(s, i)) {
            std::size_t body = i + 2 + *level, body_end = 0;
            i = skip_long(s, body, *level, body_end);
            if (body < body_end && s[body] == '\n') ++body;  // Lua drops a leading newline
            out.push_back({lua_token_kind::string, s.substr(start, i - start), s.substr(body, body_end - body), start});
        } else if (c == '"' || c == '\'') {
            bool escaped = false;
            const std::size_t body_end = skip_short_string(s, i, escaped);
            i = std::min(body_end + 1, s.size());
            const auto body = s.substr(start + 1, body_end - start - 1);
            out.push_back({lua_token_kind::string, s.substr(start, i - start), escaped ? std::string_view{} : body,
                           start, escaped});
        } else if (digit(c) || (c == '.' && i + 1 < s.size() && digit(s[i + 1]))) {
            i = skip_number(s, i);
            out.push_back({lua_token_kind::number, s.substr(start, i - start), {}, start});
        } else if (is_name_start(c)) {
            while (i < s.size() && is_name_char(s[i])) ++i;
            out.push_back({lua_token_kind::name, s.substr(start, i - start), {}, start});
        } else {
            // Multi-character operators matter only so that `==` is not taken for `=`.
            static constexpr std::string_view multi[] = {"...", "==", "~=", "<=", ">=", "..", "::"};
            std::size_t len = 1;
            for (auto op : multi)
                if (s.compare(i, op.size(), op) == 0) {
                    len = op.size();
                    break;
                }
            i += len;
            out.push_back({lua_token_kind::punct, s.substr(start, len), {}, start});
        }
    }
    return out;
}

bool is_lua_digit(char c) { return digit(c); }

}  // namespace statenet::detail
