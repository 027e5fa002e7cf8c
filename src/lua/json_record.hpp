// JsonRecord: a record kept as its JSON text while it runs: Lua gets its fields decoded
// from the text as it reads them (no Value tree), and the output copies the fields the
// run did not change from the input text as they came.
#pragma once

#include "lua/convert.hpp"
#include "lua/protocol.hpp"

#include <statenet/value.hpp>

#include <lua.hpp>

#include <memory>
#include <string>
#include <string_view>

namespace statenet::detail {

class JsonRecord {
public:
    JsonRecord();
    ~JsonRecord();
    JsonRecord(const JsonRecord&) = delete;
    JsonRecord& operator=(const JsonRecord&) = delete;

    /// Parses a record. False when the text is not a JSON object with distinct keys
    /// that simdjson reads as it is (malformed text, a scalar, duplicate keys, integers
    /// beyond 64 bits): the caller then takes the Value path, which reports or handles
    /// each of those exactly. The text must outlive the record's run: the output
    /// copies from it.
    bool parse(std::string_view json);

    std::size_t size() const noexcept;
    /// The index of field `key`, or -1.
    int find(std::string_view key) const noexcept;

    /// Field codes for the Lua runtime's FFI fetch (stdlib/statenet/runtime.lua).
    using FieldCode = JsonFieldCode;

    /// Field `key` without going through the Lua C API: a number into `*number`, a
    /// string as a pointer and length (into the input text or the parser's buffer,
    /// valid until the next parse); objects, arrays and strings with escapes report
    /// `table`: push_field pushes those.
    FieldCode field(std::string_view key, double* number, const char** text, std::size_t* length) const noexcept;
    /// Pushes field `key` (any type); pushes nil when there is none.
    void push_field(lua_State* L, std::string_view key, const ConvertRefs& refs) const;

    /// Pushes the record as a Lua table, as push_value would push its Value (null
    /// members left out, empty arrays marked).
    void push(lua_State* L, const ConvertRefs& refs) const;
    /// Appends fields [first, last) as `"key":value,...`, keys and values exactly as
    /// they are in the input text (runs of fields the text has without spaces are
    /// copied in one piece).
    void append_fields(std::string& out, std::size_t first, std::size_t last) const;
    /// Appends field i's key as it is in the input text (quoted).
    void append_key(std::string& out, std::size_t i) const;
    /// The keys as an object of nulls: the member order read_value should keep.
    Value key_order() const;
    /// Field i as a Value (the member order for a changed nested table).
    Value field_value(std::size_t i) const;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

/// statenet_json_field for the Lua runtime's FFI: `record` is a JsonRecord*. A plain
/// function with C types only, so LuaJIT can call it through a function pointer.
int json_field_for_ffi(void* record, const char* key, std::size_t key_length, double* number, const char** text,
                       std::size_t* length) noexcept;

}  // namespace statenet::detail
