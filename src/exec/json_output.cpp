// JsonOutput: the JSON record's fields handed to Lua, and the output line written back.
#include "exec/json_output.hpp"

#include "json/json_internal.hpp"

#include <algorithm>

namespace statenet::detail {

void JsonOutput::install(Program& program) {
    program_ = &program;
    lua_State* L = program.state();
    StackGuard guard(L);
    program.vm().push_runtime("set_json_source");
    lua_pushlightuserdata(L, reinterpret_cast<void*>(&json_field_for_ffi));
    lua_pushlightuserdata(L, &json_);
    lua_pushlightuserdata(L, this);
    lua_pushcclosure(L, lua_json_table, 1);
    lua_pushlightuserdata(L, this);
    lua_pushcclosure(L, lua_json_all, 1);
    lua_call(L, 4, 0);
}

// The output line: the input's fields in their order, each copied from the input text
// as it came unless the run changed it, then the fields the run added, by name. The
// changed and added values are written as JSON straight from Lua while the run's dirty
// keys are walked once. When anything may have changed (direct mode, a replaced record,
// a push), or a key is not a string, the whole record is read back instead.
void JsonOutput::write(int slot, std::string& out) {
    Program& program = *program_;
    lua_State* L = program.state();
    StackGuard guard(L);
    lua_rawgeti(L, LUA_REGISTRYINDEX, program.refs().changes);
    lua_pushinteger(L, slot);
    lua_call(L, 1, 3);  // whole, dirty keys, the record's root
    const int root = lua_gettop(L), dirty = root - 1;
    auto whole = [&] { append_json(out, program.read_whole(slot, json_.key_order())); };
    if (lua_toboolean(L, dirty - 1)) return whole();
    const std::size_t n = json_.size();
    field_change_.assign(n, FieldChange::kept);
    if (field_text_.size() < n) field_text_.resize(n);
    std::size_t added = 0;
    lua_pushnil(L);
    while (lua_next(L, dirty) != 0) {
        lua_pop(L, 1);  // the key stays for lua_next
        if (lua_type(L, -1) != LUA_TSTRING) {
            lua_pop(L, 1);
            return whole();
        }
        std::size_t length = 0;
        const char* key = lua_tolstring(L, -1, &length);
        lua_pushvalue(L, -1);
        lua_rawget(L, root);
        const bool removed = lua_isnil(L, -1);
        const int i = json_.find(std::string_view(key, length));
        std::string* text = nullptr;
        if (i >= 0) {
            const auto at = static_cast<std::size_t>(i);
            field_change_[at] = removed ? FieldChange::removed : FieldChange::changed;
            text = &field_text_[at];
        } else if (!removed) {
            if (added_.size() <= added) added_.emplace_back();
            added_[added].first = std::string_view(key, length);  // the dirty table keeps the key alive
            text = &added_[added++].second;
        }
        if (text && !removed) {
            text->clear();
            // A changed object keeps its members in their input order.
            const Value old = i >= 0 && lua_istable(L, -1) ? json_.field_value(static_cast<std::size_t>(i)) : Value();
            append_lua_json(*text, L, -1, program.convert(), &old);
        }
        lua_pop(L, 1);
    }
    std::sort(added_.begin(), added_.begin() + static_cast<std::ptrdiff_t>(added),
              [](const auto& a, const auto& b) { return a.first < b.first; });
    bool first = true;
    out += '{';
    for (std::size_t i = 0; i < n;) {
        if (field_change_[i] == FieldChange::removed) {
            ++i;
            continue;
        }
        if (!first) out += ',';
        first = false;
        if (field_change_[i] == FieldChange::changed) {
            json_.append_key(out, i);
            out += ':';
            out += field_text_[i];
            ++i;
            continue;
        }
        std::size_t j = i + 1;
        while (j < n && field_change_[j] == FieldChange::kept) ++j;
        json_.append_fields(out, i, j);
        i = j;
    }
    for (std::size_t k = 0; k < added; ++k) {
        if (!first) out += ',';
        first = false;
        append_json_string(out, added_[k].first);
        out += ':';
        out += added_[k].second;
    }
    out += '}';
}

void JsonOutput::write_input(std::string& out) const {
    out += '{';
    json_.append_fields(out, 0, json_.size());
    out += '}';
}

// The JSON record's object and array fields, and the whole record (for `pairs` and
// copies), pushed through the Lua C API; scalars go through the runtime's FFI call.
int JsonOutput::lua_json_table(lua_State* L) {
    auto* self = static_cast<JsonOutput*>(lua_touserdata(L, lua_upvalueindex(1)));
    return guarded_call(L, "", [&] {
        std::size_t length = 0;
        const char* key = luaL_checklstring(L, 1, &length);
        self->json_.push_field(L, std::string_view(key, length), self->program_->convert());
        return 1;
    });
}

int JsonOutput::lua_json_all(lua_State* L) {
    auto* self = static_cast<JsonOutput*>(lua_touserdata(L, lua_upvalueindex(1)));
    return guarded_call(L, "", [&] {
        self->json_.push(L, self->program_->convert());
        return 1;
    });
}

}  // namespace statenet::detail
