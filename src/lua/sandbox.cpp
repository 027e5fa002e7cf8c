// The Lua sandbox's C++ side: code instrumentation, the literal trust list, the host table.
#include "lua/sandbox.hpp"

#include "lua/limits.hpp"
#include "lua/lua_lexer.hpp"
#include "lua/vm.hpp"

#include <cstdlib>
#include <fstream>
#include <iterator>
#include <optional>

namespace statenet::detail {

namespace {

bool is_punct(const lua_token& t, std::string_view text) { return t.is(lua_token_kind::punct, text); }

constexpr std::string_view tick_call = " __statenet_tick();";

std::optional<std::string> read_file(const std::string& path, SourceSnapshot* sources) {
    if (sources) return sources->text(path);
    std::ifstream in(path, std::ios::binary);
    if (!in) return std::nullopt;
    return std::string{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

/// host.source(path): a Lua file's text as this VM's workflow version sees it.
int lua_source(lua_State* L) {
    auto* sources = static_cast<SourceSnapshot*>(lua_touserdata(L, lua_upvalueindex(1)));
    const auto text = read_file(luaL_checkstring(L, 1), sources);
    if (!text) {
        lua_pushnil(L);
        lua_pushfstring(L, "cannot open %s", lua_tostring(L, 1));
        return 2;
    }
    lua_pushlstring(L, text->data(), text->size());
    return 1;
}

/// host.find_module(name, search_path): path, text of the module `require` would load,
/// recorded in the version's snapshot (so it is hashed and watched); nil, the paths
/// tried when there is none. Without a snapshot: nothing (the caller searches itself).
int lua_find_module(lua_State* L) {
    auto* sources = static_cast<SourceSnapshot*>(lua_touserdata(L, lua_upvalueindex(1)));
    if (!sources) return 0;
    const std::string module = luaL_checkstring(L, 1);
    std::size_t length = 0;
    const char* path = luaL_checklstring(L, 2, &length);
    return guarded_call(L, "", [&] {
        std::string tried;
        const auto found = sources->find_module(module, std::string_view(path, length), tried);
        if (!found) {
            lua_pushnil(L);
            lua_pushlstring(L, tried.data(), tried.size());
            return 2;
        }
        lua_pushlstring(L, found->first.data(), found->first.size());
        lua_pushlstring(L, found->second->data(), found->second->size());
        return 2;
    });
}

int lua_instrument(lua_State* L) {
    std::size_t length = 0;
    const char* code = luaL_checklstring(L, 1, &length);
    std::string out;
    try {
        out = instrument_lua(std::string_view(code, length));
    } catch (const std::exception& e) {
        return luaL_error(L, "%s", e.what());
    }
    lua_pushlstring(L, out.data(), out.size());
    return 1;
}

}  // namespace

bool sandbox_enabled_by_environment() {
    const char* off = std::getenv("STATENET_UNSANDBOXED");
    return !(off && std::string_view(off) == "1");
}

std::string instrument_lua(std::string_view code) {
    std::string body(code);
    // luaL_loadfile skips a first line starting with '#'; so must the wrapped text.
    if (body.starts_with('#')) body.erase(0, std::min(body.find('\n'), body.size()));
    const std::vector<lua_token> tokens = lua_tokens(body);
    std::vector<std::size_t> ticks;  // offsets to insert a tick at, in order
    for (std::size_t i = 0; i < tokens.size(); ++i) {
        const lua_token& t = tokens[i];
        if (t.kind != lua_token_kind::name) continue;
        if (t.text == "do" || t.text == "repeat") ticks.push_back(t.end());
        else if (t.text == "goto") ticks.push_back(t.offset);
        else if (t.text == "function") {
            std::size_t j = i + 1;
            while (j < tokens.size() && !is_punct(tokens[j], "(")) ++j;
            while (j < tokens.size() && !is_punct(tokens[j], ")")) ++j;
            if (j < tokens.size()) ticks.push_back(tokens[j].end());
        }
    }
    std::string out = "local __statenet_tick = ...; return function(...)";
    out.reserve(out.size() + body.size() + ticks.size() * tick_call.size() + 8);
    std::size_t copied = 0;
    for (std::size_t at : ticks) {
        out.append(body, copied, at - copied);
        out += tick_call;
        copied = at;
    }
    out.append(body, copied, std::string::npos);
    out += "\nend";
    return out;
}

TrustLiteral find_trust_literal(std::string_view code) {
    TrustLiteral literal;
    const std::vector<lua_token> tokens = lua_tokens(code);
    for (std::size_t i = 0; i + 2 < tokens.size(); ++i) {
        if (!tokens[i].is(lua_token_kind::name, "trust") || !is_punct(tokens[i + 1], "=") ||
            !is_punct(tokens[i + 2], "{"))
            continue;
        std::vector<std::string> names;
        std::size_t j = i + 3;
        bool literal_list = true;
        for (; j < tokens.size() && !is_punct(tokens[j], "}"); ++j) {
            const lua_token& t = tokens[j];
            // Only plain quoted names count: not long strings nor strings with escapes.
            const bool plain = t.kind == lua_token_kind::string && !t.escaped && t.text.front() != '[';
            if (plain) names.emplace_back(t.content);
            else if (t.kind != lua_token_kind::number && !is_punct(t, ",") && !is_punct(t, ";")) literal_list = false;
        }
        if (!literal_list || j == tokens.size()) continue;
        literal.found = true;
        literal.names = std::move(names);
        literal.line = 1;
        std::size_t line_start = 0;
        for (std::size_t k = 0; k < tokens[i].offset; ++k)
            if (code[k] == '\n') {
                ++literal.line;
                line_start = k + 1;
            }
        literal.column = static_cast<int>(tokens[i].offset - line_start) + 1;
        return literal;
    }
    return literal;
}

void preload_host(lua_State* L, const SandboxConfig& config, VmLimits* limits, const std::string& stdlib_dir,
                  SourceSnapshot* sources) {
    lua_getglobal(L, "package");
    lua_getfield(L, -1, "loaded");
    lua_createtable(L, 0, 6);
    lua_pushboolean(L, config.enabled);
    lua_setfield(L, -2, "sandboxed");
    lua_pushlightuserdata(L, limits ? limits->shared() : nullptr);
    lua_setfield(L, -2, "limits");
    lua_pushcfunction(L, lua_instrument);
    lua_setfield(L, -2, "instrument");
    lua_pushlightuserdata(L, sources);
    lua_pushcclosure(L, lua_source, 1);
    lua_setfield(L, -2, "source");
    lua_pushlightuserdata(L, sources);
    lua_pushcclosure(L, lua_find_module, 1);
    lua_setfield(L, -2, "find_module");
    lua_pushlstring(L, stdlib_dir.data(), stdlib_dir.size());
    lua_setfield(L, -2, "stdlib_dir");
    lua_createtable(L, static_cast<int>(config.trust.size()), 0);
    for (std::size_t i = 0; i < config.trust.size(); ++i) {
        lua_pushlstring(L, config.trust[i].data(), config.trust[i].size());
        lua_rawseti(L, -2, static_cast<int>(i + 1));
    }
    lua_setfield(L, -2, "trust");
    lua_setfield(L, -2, "statenet.host");
    lua_pop(L, 2);
}

int load_user_file(lua_State* L, const std::string& path, SourceSnapshot* sources) {
    const auto text = read_file(path, sources);
    if (!text) {
        lua_pushfstring(L, "cannot open %s", path.c_str());
        return LUA_ERRFILE;
    }
    lua_getfield(L, LUA_REGISTRYINDEX, "statenet.load_chunk");
    if (lua_isnil(L, -1)) {  // a bare VM (no runtime, so no sandbox): as luaL_loadfile
        lua_pop(L, 1);
        const std::string chunk_name = "@" + path;
        return luaL_loadbuffer(L, text->data(), text->size(), chunk_name.c_str());
    }
    lua_pushlstring(L, text->data(), text->size());
    lua_pushfstring(L, "@%s", path.c_str());
    if (const int status = lua_pcall(L, 2, 2, 0); status != 0) return status;
    if (lua_isnil(L, -2)) {
        lua_remove(L, -2);
        return LUA_ERRSYNTAX;
    }
    lua_pop(L, 1);
    return 0;
}

}  // namespace statenet::detail
