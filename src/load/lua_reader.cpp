// Runs a Lua workflow file and converts the table it returns into a located Node tree.
#include "load/lua_reader.hpp"

#include <statenet/value.hpp>
#include "lua/lua_lexer.hpp"
#include "lua/sandbox.hpp"

#include <lua.hpp>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <optional>
#include <string_view>
#include <unordered_map>
#include <unordered_set>

namespace statenet::detail {

namespace {

// ---------------------------------------------------------------------------------
// Source positions. Lua tables remember nothing about where they were written, so the
// source text is scanned for table constructors: which keys and list items each `{`
// holds and where, plus plain `name = value` assignments so that a table built in a
// local variable can be traced back to its constructor.

using token = lua_token;
using token_kind = lua_token_kind;

bool is_punct(const token& t, std::string_view text) { return t.kind == token_kind::punct && t.text == text; }

/// A `key = value` (or `["key"] = value`) written directly inside a table constructor.
struct key_site {
    std::string name;
    std::size_t key;    // offset of the key
    std::size_t value;  // offset of the value expression
    std::size_t table;  // offset of the enclosing '{'
};

/// A `name = value` outside any constructor, e.g. `local arcs = { ... }`.
struct assignment {
    std::string_view name;
    std::size_t at;
    std::size_t value;
};

class source_map {
public:
    source_map(std::string file, std::string text) : file_(std::move(file)), text_(std::move(text)) {
        line_starts_.push_back(0);
        for (std::size_t i = 0; i < text_.size(); ++i)
            if (text_[i] == '\n') line_starts_.push_back(i + 1);
        tokens_ = lua_tokens(text_);
        index();
    }

    const std::string& file() const noexcept { return file_; }

    std::string_view text_from(std::size_t offset) const {
        return std::string_view(text_).substr(std::min(offset, text_.size()));
    }

    Loc loc(std::size_t offset) const {
        const auto next = std::upper_bound(line_starts_.begin(), line_starts_.end(), offset);
        const std::size_t line_start = *(next - 1);
        int column = 1;  // counted in characters, like toml++, not bytes
        for (std::size_t i = line_start; i < offset && i < text_.size(); ++i)
            if ((static_cast<unsigned char>(text_[i]) & 0xC0) != 0x80) ++column;
        return {file_, static_cast<int>(next - line_starts_.begin()), column};
    }

    /// Where the expression of the top-level `return` starts.
    std::optional<std::size_t> root() const { return root_; }

    /// The table constructor a value expression stands for, following plain variables.
    std::optional<std::size_t> constructor(std::size_t value) const {
        for (int hops = 0; hops < 8; ++hops) {
            const std::size_t t = token_index(value);
            if (t == tokens_.size()) return std::nullopt;
            const token& tok = tokens_[t];
            if (is_punct(tok, "{")) return value;
            if (tok.kind != token_kind::name || is_lua_keyword(tok.text)) return std::nullopt;
            if (t + 1 < tokens_.size()) {  // a call or a field access is not the variable
                const token& next = tokens_[t + 1];
                if (next.kind == token_kind::string || is_punct(next, "(") || is_punct(next, "{") ||
                    is_punct(next, ".") || is_punct(next, ":") || is_punct(next, "["))
                    return std::nullopt;
            }
            const assignment* last = nullptr;
            for (const auto& a : assignments_)
                if (a.at < value && a.name == tok.text) last = &a;
            if (!last) return std::nullopt;
            value = last->value;
        }
        return std::nullopt;
    }

    /// The key in constructor `table`; the last one wins, as it does in Lua.
    const key_site* find_key(std::size_t table, std::string_view name) const {
        const key_site* found = nullptr;
        for (const auto& site : keys_)
            if (site.table == table && site.name == name) found = &site;
        return found;
    }

    const key_site* find_key_after(std::size_t from, std::string_view name) const {
        for (const auto& site : keys_)
            if (site.key >= from && site.name == name) return &site;
        return nullptr;
    }

    /// The `index`th (1-based) list item of constructor `table`.
    std::optional<std::size_t> item(std::size_t table, std::size_t index) const {
        const auto it = items_.find(table);
        if (it == items_.end() || index == 0 || index > it->second.size()) return std::nullopt;
        return it->second[index - 1];
    }

    std::optional<std::size_t> find_quoted(std::string_view str, std::size_t from) const {
        std::optional<std::size_t> best;
        for (char quote : {'"', '\''}) {
            const std::string quoted = quote + std::string(str) + quote;
            const std::size_t at = text_.find(quoted, from);
            if (at != std::string::npos && (!best || at < *best)) best = at;
        }
        return best;
    }

    /// The column of the first `function` keyword on `line`, if any.
    std::optional<int> function_column(int line) const {
        if (line < 1 || static_cast<std::size_t>(line) > line_starts_.size()) return std::nullopt;
        const std::size_t begin = line_starts_[static_cast<std::size_t>(line) - 1];
        for (std::size_t t = token_index_from(begin); t < tokens_.size(); ++t) {
            if (loc(tokens_[t].offset).line != line) break;
            if (tokens_[t].kind == token_kind::name && tokens_[t].text == "function")
                return loc(tokens_[t].offset).column;
        }
        return std::nullopt;
    }

private:
    enum class scope { table, paren, bracket, block };
    struct open_scope {
        scope kind;
        std::size_t offset;
    };

    void index() {
        std::vector<open_scope> stack;
        bool at_item_start = false;
        for (std::size_t t = 0; t < tokens_.size(); ++t) {
            const token& tok = tokens_[t];
            const auto punct_at = [&](std::size_t n, std::string_view text) {
                return t + n < tokens_.size() && is_punct(tokens_[t + n], text);
            };
            const auto offset_at = [&](std::size_t n) {
                return t + n < tokens_.size() ? tokens_[t + n].offset : text_.size();
            };
            const bool in_table = !stack.empty() && stack.back().kind == scope::table;
            if (in_table && at_item_start) {
                at_item_start = false;
                const std::size_t table = stack.back().offset;
                if (tok.kind == token_kind::name && punct_at(1, "="))
                    keys_.push_back({std::string(tok.text), tok.offset, offset_at(2), table});
                else if (is_punct(tok, "[") && t + 1 < tokens_.size() && tokens_[t + 1].kind == token_kind::string &&
                         punct_at(2, "]") && punct_at(3, "="))
                    keys_.push_back({std::string(tokens_[t + 1].content), tok.offset, offset_at(4), table});
                else if (!is_punct(tok, "}") && !is_punct(tok, "[")) items_[table].push_back(tok.offset);
            } else if (!in_table && tok.kind == token_kind::name && punct_at(1, "=") &&
                       !(t > 0 && (is_punct(tokens_[t - 1], ".") || is_punct(tokens_[t - 1], ":") ||
                                   is_punct(tokens_[t - 1], ",")))) {
                assignments_.push_back({tok.text, tok.offset, offset_at(2)});
            }
            track_scope(tok, stack, in_table, at_item_start, offset_at(1));
        }
    }

    void track_scope(const token& tok, std::vector<open_scope>& stack, bool in_table, bool& at_item_start,
                     std::size_t next_offset) {
        const auto close = [&] {
            if (!stack.empty()) stack.pop_back();
        };
        if (tok.kind == token_kind::punct) {
            if (tok.text == "{") {
                stack.push_back({scope::table, tok.offset});
                at_item_start = true;
            } else if (tok.text == "(") {
                stack.push_back({scope::paren, tok.offset});
            } else if (tok.text == "[") {
                stack.push_back({scope::bracket, tok.offset});
            } else if (tok.text == "}" || tok.text == ")" || tok.text == "]") {
                close();
            } else if ((tok.text == "," || tok.text == ";") && in_table) {
                at_item_start = true;
            }
        } else if (tok.kind == token_kind::name) {
            // `while`/`for` open their block at `do`; `if` closes at `end` after elseifs.
            if (tok.text == "function" || tok.text == "do" || tok.text == "if" || tok.text == "repeat")
                stack.push_back({scope::block, tok.offset});
            else if (tok.text == "end" || tok.text == "until") close();
            else if (tok.text == "return" && stack.empty()) root_ = next_offset;
        }
    }

    /// Index of the token starting at `offset`, or tokens_.size().
    std::size_t token_index(std::size_t offset) const {
        const std::size_t t = token_index_from(offset);
        return t < tokens_.size() && tokens_[t].offset == offset ? t : tokens_.size();
    }

    std::size_t token_index_from(std::size_t offset) const {
        const auto it = std::lower_bound(tokens_.begin(), tokens_.end(), offset,
                                         [](const token& tok, std::size_t off) { return tok.offset < off; });
        return static_cast<std::size_t>(it - tokens_.begin());
    }

    std::string file_;
    std::string text_;
    std::vector<std::size_t> line_starts_;
    std::vector<token> tokens_;
    std::vector<key_site> keys_;
    std::vector<assignment> assignments_;
    std::unordered_map<std::size_t, std::vector<std::size_t>> items_;
    std::optional<std::size_t> root_;
};

// ---------------------------------------------------------------------------------
// Conversion of the returned table.

/// Where a value sits in the source, as far as it can be told.
struct place {
    Loc loc;
    std::optional<std::size_t> anchor;  // offset of the value's expression, if known
    std::size_t scan_from = 0;          // where to look for its keys without a constructor
};

class stack_guard {
public:
    explicit stack_guard(lua_State* L) : L_(L), top_(lua_gettop(L)) {}
    ~stack_guard() { lua_settop(L_, top_); }
    stack_guard(const stack_guard&) = delete;
    stack_guard& operator=(const stack_guard&) = delete;

private:
    lua_State* L_;
    int top_;
};

/// The keys of one Lua table, sorted into what they make it: a list or a map.
struct table_keys {
    std::vector<std::string> names;
    std::size_t count = 0;
    std::size_t indices = 0;  // positive integer keys
    double max_index = 0;
    std::string bad_key;  // the first key that is neither a name nor an index

    bool is_list() const { return count > 0 && indices == count && max_index == static_cast<double>(count); }
};

bool is_index(double d) { return d >= 1 && d <= 9007199254740992.0 && std::trunc(d) == d; }

std::string number_text(double d) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.14g", d);
    return buf;
}

class lua_converter {
public:
    lua_converter(lua_State* L, const source_map& src, Diagnostics& diags)
        : L_(L), src_(src), diags_(diags), chunk_name_("@" + src.file()) {}

    place root_place() const {
        // The root's keys are looked for from the top of the file when its constructor
        // cannot be found (e.g. `return build()`).
        if (auto at = src_.root()) return {src_.loc(*at), at, 0};
        return {{src_.file(), 1, 1}, std::nullopt, 0};
    }

    /// Converts the value at absolute stack index `idx`; false if it was reported and
    /// must be left out.
    bool convert(int idx, Node& out, const place& where) {
        out.loc = where.loc;
        switch (lua_type(L_, idx)) {
        case LUA_TTABLE: return convert_table(idx, out, where);
        case LUA_TSTRING: {
            std::size_t len = 0;
            const char* s = lua_tolstring(L_, idx, &len);
            out.kind = Node::Kind::string;
            out.str.assign(s, len);
            std::optional<std::size_t> at = where.anchor;
            if (!at) {
                at = src_.find_quoted(out.str, where.scan_from);
                if (at) out.loc = src_.loc(*at);
            }
            if (at && drops_first_newline(src_.text_from(*at))) out.text_line = out.loc.line + 1;
            return true;
        }
        case LUA_TNUMBER: set_number(lua_tonumber(L_, idx), out); return true;
        case LUA_TBOOLEAN:
            out.kind = Node::Kind::boolean;
            out.boolean = lua_toboolean(L_, idx) != 0;
            return true;
        case LUA_TFUNCTION:
            out.kind = Node::Kind::function;
            out.fn_path = path_;
            out.loc = function_loc(idx, where);
            return true;
        default: break;
        }
        diags_.error(where.loc, "'" + path_text() + "' is a " + lua_typename(L_, lua_type(L_, idx)) +
                                    "; a workflow holds only tables, strings, numbers, "
                                    "booleans and functions");
        return false;
    }

private:
    static void set_number(double d, Node& out) {
        constexpr double two_63 = 9223372036854775808.0;
        if (std::isfinite(d) && std::trunc(d) == d && d >= -two_63 && d < two_63) {
            out.kind = Node::Kind::integer;
            out.integer = static_cast<std::int64_t>(d);
        } else {
            out.kind = Node::Kind::number;
            out.number = d;
        }
    }

    Loc function_loc(int idx, const place& where) const {
        lua_Debug ar;
        lua_pushvalue(L_, idx);
        lua_getinfo(L_, ">S", &ar);  // pops the function
        // A C function or one defined in another file: point at where it is used.
        if (ar.linedefined <= 0 || !ar.source || chunk_name_ != ar.source) return where.loc;
        if (where.anchor) {
            Loc at = src_.loc(*where.anchor);
            if (at.line == ar.linedefined) return at;
        }
        return {src_.file(), ar.linedefined, src_.function_column(ar.linedefined).value_or(0)};
    }

    bool convert_table(int idx, Node& out, const place& where) {
        out.kind = Node::Kind::table;
        const void* id = lua_topointer(L_, idx);
        if (open_tables_.count(id)) {
            diags_.error(where.loc, "cyclic table: '" + path_text() + "' refers back to a table that contains it");
            return false;
        }
        // The returned table is level 1, so this one is level path_.size() + 1.
        if (path_.size() >= static_cast<std::size_t>(max_nesting_depth) || !lua_checkstack(L_, 8)) {
            diags_.error(where.loc, "tables nested deeper than " + std::to_string(max_nesting_depth) + " levels");
            return false;
        }
        open_tables_.insert(id);
        table_keys keys = scan_keys(idx);
        if (keys.is_list()) {
            convert_items(idx, keys.count, out, where);
        } else {
            report_bad_keys(keys, where);
            convert_fields(idx, std::move(keys.names), out, where);
        }
        open_tables_.erase(id);
        return true;
    }

    table_keys scan_keys(int idx) const {
        table_keys keys;
        lua_pushnil(L_);
        while (lua_next(L_, idx)) {
            ++keys.count;
            // Only string keys are read as text: lua_tolstring on a number key would
            // change it in place and confuse lua_next.
            const int type = lua_type(L_, -2);
            if (type == LUA_TSTRING) {
                std::size_t len = 0;
                const char* s = lua_tolstring(L_, -2, &len);
                keys.names.emplace_back(s, len);
            } else if (type == LUA_TNUMBER && is_index(lua_tonumber(L_, -2))) {
                ++keys.indices;
                keys.max_index = std::max(keys.max_index, lua_tonumber(L_, -2));
            } else if (keys.bad_key.empty()) {
                keys.bad_key = type == LUA_TNUMBER ? "number " + number_text(lua_tonumber(L_, -2))
                                                   : std::string(lua_typename(L_, type));
            }
            lua_pop(L_, 1);
        }
        return keys;
    }

    void report_bad_keys(const table_keys& keys, const place& where) {
        if (!keys.bad_key.empty())
            diags_.error(where.loc,
                         "table keys must be strings, got a " + keys.bad_key + " key in '" + path_text() + "'");
        else if (keys.indices > 0 && !keys.names.empty())
            diags_.error(where.loc, "'" + path_text() + "' mixes list items and named keys");
        else if (keys.indices > 0)
            diags_.error(where.loc, "the list '" + path_text() + "' has gaps; its keys must be 1..n");
    }

    void convert_items(int idx, std::size_t count, Node& out, const place& where) {
        out.kind = Node::Kind::array;
        for (std::size_t i = 1; i <= count; ++i) {
            lua_rawgeti(L_, idx, static_cast<int>(i));
            path_.push_back({true, {}, static_cast<std::int64_t>(i)});
            Node child;
            if (convert(lua_gettop(L_), child, item_place(where, i))) out.items.push_back(std::move(child));
            path_.pop_back();
            lua_pop(L_, 1);
        }
    }

    void convert_fields(int idx, std::vector<std::string> names, Node& out, const place& where) {
        // Lua keeps no definition order; sorting makes the result and its messages stable.
        std::sort(names.begin(), names.end());
        for (auto& name : names) {
            lua_pushlstring(L_, name.data(), name.size());
            lua_rawget(L_, idx);
            Loc key_loc;
            const place at = field_place(where, name, key_loc);
            path_.push_back({false, name, 0});
            Node child;
            if (convert(lua_gettop(L_), child, at)) {
                out.fields.emplace_back(std::move(name), std::move(child));
                out.field_locs.push_back(std::move(key_loc));
            }
            path_.pop_back();
            lua_pop(L_, 1);
        }
    }

    place field_place(const place& parent, std::string_view key, Loc& key_loc) const {
        const key_site* site = nullptr;
        std::optional<std::size_t> table;
        if (parent.anchor) table = src_.constructor(*parent.anchor);
        if (table) site = src_.find_key(*table, key);  // absent: the key was added by code
        else site = src_.find_key_after(parent.scan_from, key);
        if (!site) {
            key_loc = parent.loc;
            return {parent.loc, std::nullopt, parent.scan_from};
        }
        key_loc = src_.loc(site->key);
        return {src_.loc(site->value), site->value, site->value};
    }

    place item_place(const place& parent, std::size_t index) const {
        if (parent.anchor)
            if (auto table = src_.constructor(*parent.anchor))
                if (auto item = src_.item(*table, index)) return {src_.loc(*item), item, *item};
        return {parent.loc, std::nullopt, parent.scan_from};
    }

    std::string path_text() const {
        std::string text;
        for (const auto& step : path_) {
            if (step.is_index) {
                text += "[" + std::to_string(step.index) + "]";
            } else {
                if (!text.empty()) text += '.';
                text += step.key;
            }
        }
        return text.empty() ? "(workflow)" : text;
    }

    lua_State* L_;
    const source_map& src_;
    Diagnostics& diags_;
    std::string chunk_name_;
    std::vector<PathKey> path_;
    std::unordered_set<const void*> open_tables_;  // tables being converted: the ancestors
};

// ---------------------------------------------------------------------------------
// Loading and running.

/// Splits a Lua message "chunk:LINE: text" into its location and text. Long chunk
/// names are shortened by Lua to "...tail"; a message from a required module keeps
/// that module's file.
void report_lua_message(std::string_view msg, const std::string& file, Diagnostics& diags) {
    const std::size_t from = msg.starts_with(file + ":") ? file.size() : 0;
    for (std::size_t colon = msg.find(':', from); colon != std::string_view::npos; colon = msg.find(':', colon + 1)) {
        std::size_t end = colon + 1;
        while (end < msg.size() && is_lua_digit(msg[end])) ++end;
        int line = 0;
        if (end == colon + 1 || end >= msg.size() || msg[end] != ':' ||
            std::from_chars(msg.data() + colon + 1, msg.data() + end, line).ec != std::errc{})
            continue;
        std::string where(msg.substr(0, colon));
        if (where.starts_with("...") && file.ends_with(where.substr(3))) where = file;
        std::string_view text = msg.substr(end + 1);
        if (text.starts_with(' ')) text.remove_prefix(1);
        diags.error({where, line, 0}, std::string(text));
        return;
    }
    diags.error({file, 0, 0}, std::string(msg));
}

void report_lua_error(lua_State* L, const std::string& file, Diagnostics& diags) {
    if (const char* msg = lua_tostring(L, -1)) report_lua_message(msg, file, diags);
    else
        diags.error({file, 0, 0},
                    std::string("the workflow raised a ") + lua_typename(L, lua_type(L, -1)) + " as its error");
}

std::string read_text(const std::string& file) {
    std::ifstream in(file, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

}  // namespace

bool read_lua_workflow(lua_State* L, const std::string& file, Node& out, Diagnostics& diags) {
    stack_guard guard(L);
    if (load_user_file(L, file) != 0 || lua_pcall(L, 0, 1, 0) != 0) {
        report_lua_error(L, file, diags);
        return false;
    }
    if (!lua_istable(L, -1)) {
        diags.error({file, 1, 1}, "a Lua workflow must return a table");
        return false;
    }
    const source_map src(file, read_text(file));
    lua_converter converter(L, src, diags);
    out = Node{};
    converter.convert(lua_gettop(L), out, converter.root_place());
    return true;
}

}  // namespace statenet::detail
