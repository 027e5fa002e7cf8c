// A Lua lexer for reading source text: names, strings, numbers and punctuation with their
// offsets; comments and whitespace skipped. Used where Lua's own parser says too little:
// locating a workflow's keys (load/lua_reader) and instrumenting workflow code for the
// sandbox's limits (lua/sandbox). Not a validator: malformed text still yields tokens.
#pragma once

#include <cstddef>
#include <string_view>
#include <vector>

namespace statenet::detail {

enum class lua_token_kind { name, string, number, punct };

struct lua_token {
    lua_token_kind kind;
    std::string_view text;     // as written
    std::string_view content;  // strings: the body, empty when it holds escapes
    std::size_t offset;
    bool escaped = false;  // a short string with escapes (its content is empty)

    std::size_t end() const noexcept { return offset + text.size(); }
    bool is(lua_token_kind k, std::string_view t) const noexcept { return kind == k && text == t; }
};

/// The tokens of `source`; a first line starting with '#' is skipped, as luaL_loadfile
/// does. Multi-character operators (`==`, `..`, `...`, `~=`, `<=`, `>=`, `::`) are one token.
std::vector<lua_token> lua_tokens(std::string_view source);

bool is_lua_keyword(std::string_view word);
bool is_lua_digit(char c);

}  // namespace statenet::detail
