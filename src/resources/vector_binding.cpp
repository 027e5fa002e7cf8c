// The vector store's Lua face: vec:add, vec:remove, vec:search, vec:count.
#include "resources/binding.hpp"
#include "resources/vector_store.hpp"

#include <fmt/format.h>

#include <cmath>
#include <string>
#include <vector>

namespace statenet::detail {

namespace {

enum class Operation { add, remove, search, count };

struct Call {
    lua_State* L;
    VectorStore& store;
    const ConvertRefs& refs;
    int first;  // index of the first argument after self

    const std::string& name() const { return store.config().name; }

    [[noreturn]] void bad(const std::string& message) const {
        throw ResourceFailure("InvalidArgument", name() + ": " + message);
    }

    // A string, or an integral number (stored as its decimal text).
    std::string id(int index) const {
        if (lua_type(L, index) == LUA_TSTRING) {
            std::size_t size = 0;
            const char* text = lua_tolstring(L, index, &size);
            return std::string(text, size);
        }
        if (lua_type(L, index) == LUA_TNUMBER) {
            const double n = lua_tonumber(L, index);
            if (std::floor(n) == n && std::abs(n) < 9.0e15) return fmt::format("{}", static_cast<long long>(n));
        }
        bad(fmt::format("the id must be a string or an integer, not {}", luaL_typename(L, index)));
    }

    std::vector<float> vector(int index, const char* what) const {
        if (lua_type(L, index) != LUA_TTABLE)
            bad(fmt::format("the {} must be an array of numbers, not {}", what, luaL_typename(L, index)));
        if (lua_getmetatable(L, index)) {  // a view or marked array: read through its metamethods
            lua_pop(L, 1);
            return from_value(read_value(L, index, refs), what);
        }
        const std::size_t n = lua_objlen(L, index);
        std::vector<float> v(n);
        for (std::size_t i = 0; i < n; ++i) {
            lua_rawgeti(L, index, static_cast<int>(i + 1));
            if (lua_type(L, -1) != LUA_TNUMBER) bad(fmt::format("{}[{}] is not a number", what, i + 1));
            v[i] = static_cast<float>(lua_tonumber(L, -1));
            lua_pop(L, 1);
        }
        return v;
    }

    std::vector<float> from_value(const Value& value, const char* what) const {
        if (!value.is_array()) bad(fmt::format("the {} must be an array of numbers", what));
        std::vector<float> v;
        v.reserve(value.size());
        for (std::size_t i = 0; i < value.size(); ++i) {
            const Value& x = value[i];
            if (!x.is_number()) bad(fmt::format("{}[{}] is not a number", what, i + 1));
            v.push_back(static_cast<float>(x.as_number()));
        }
        return v;
    }

    Value table_or_nil(int index, const char* what) const {
        if (lua_isnoneornil(L, index)) return Value();
        if (lua_type(L, index) != LUA_TTABLE)
            bad(fmt::format("{} must be a table of fields, not {}", what, luaL_typename(L, index)));
        Value v = read_value(L, index, refs);
        if (v.is_array() && v.size() == 0) return Value();  // {} reads as an empty list
        if (!v.is_object()) bad(fmt::format("{} must be a table of fields, not a list", what));
        return v;
    }

    void push_hits(const std::vector<VectorHit>& hits) const {
        lua_createtable(L, static_cast<int>(hits.size()), 0);
        for (std::size_t i = 0; i < hits.size(); ++i) {
            lua_createtable(L, 0, 3);
            lua_pushlstring(L, hits[i].id.data(), hits[i].id.size());
            lua_setfield(L, -2, "id");
            lua_pushnumber(L, hits[i].score);
            lua_setfield(L, -2, "score");
            if (!hits[i].meta.is_null()) {
                push_value(L, hits[i].meta, refs);
                lua_setfield(L, -2, "meta");
            }
            lua_rawseti(L, -2, static_cast<int>(i + 1));
        }
    }
};

int run_operation(lua_State* L, Operation operation) {
    auto* store = method_self<VectorStore>(L);
    const auto& refs = method_refs(L);
    const int first = first_argument(L);
    Call call{L, *store, refs, first};
    switch (operation) {
    case Operation::add: {
        const std::string id = call.id(first);
        const std::vector<float> v = call.vector(first + 1, "vector");
        store->add(id, v, call.table_or_nil(first + 2, "meta"));
        return 0;
    }
    case Operation::remove: lua_pushboolean(L, store->remove(call.id(first))); return 1;
    case Operation::search: {
        const std::vector<float> q = call.vector(first, "query vector");
        if (lua_type(L, first + 1) != LUA_TNUMBER || lua_tonumber(L, first + 1) < 1 ||
            std::floor(lua_tonumber(L, first + 1)) != lua_tonumber(L, first + 1))
            call.bad("k must be a positive integer");
        const auto k = static_cast<std::size_t>(lua_tonumber(L, first + 1));
        call.push_hits(store->search(q, k, call.table_or_nil(first + 2, "the filter")));
        return 1;
    }
    case Operation::count: lua_pushinteger(L, static_cast<lua_Integer>(store->count())); return 1;
    }
    return 0;
}

template <Operation operation>
int binding_function(lua_State* L) {
    return resource_call(L, [&] { return run_operation(L, operation); });
}

}  // namespace

void push_vector_binding(lua_State* L, VectorStore* store, const ConvertRefs& refs, ResourceMeter* meter) {
    push_method_table(L, store, &refs, meter,
                      {{"add", binding_function<Operation::add>},
                       {"remove", binding_function<Operation::remove>},
                       {"search", binding_function<Operation::search>},
                       {"count", binding_function<Operation::count>}});
}

}  // namespace statenet::detail
