// statenet::Value: the JSON-like record type that crosses the public API.
#pragma once

#include <statenet/export.hpp>

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace statenet {

/// How deeply records and workflow tables may nest: arrays and objects inside one
/// another, the record itself being level 1. JSON input nested deeper is refused where
/// it is parsed (Value::from_json, a stream's record), a workflow file where it is
/// loaded, and a Lua table deeper than this cannot leave Lua as a record.
inline constexpr int max_nesting_depth = 128;

/// Thrown by Value::from_json on malformed JSON; `offset` is the byte position.
class STATENET_API JsonError : public std::runtime_error {
public:
    JsonError(const std::string& message, std::size_t offset) : std::runtime_error(message), offset_(offset) {}
    std::size_t offset() const noexcept { return offset_; }

private:
    std::size_t offset_;
};

/// A JSON value: null, boolean, integer, number, string, array or object.
/// Objects keep their keys in insertion order (JSON output preserves input order).
class STATENET_API Value {
public:
    using Array = std::vector<Value>;
    using Member = std::pair<std::string, Value>;
    using Object = std::vector<Member>;
    enum class Type { null, boolean, integer, number, string, array, object };

    Value() noexcept = default;
    Value(std::nullptr_t) noexcept {}
    Value(bool b) noexcept : v_(b) {}
    Value(int i) noexcept : v_(static_cast<std::int64_t>(i)) {}
    Value(long i) noexcept : v_(static_cast<std::int64_t>(i)) {}
    Value(long long i) noexcept : v_(static_cast<std::int64_t>(i)) {}
    Value(unsigned i) noexcept : v_(static_cast<std::int64_t>(i)) {}
    /// Sizes and counts; values beyond int64 become numbers.
    Value(unsigned long i) noexcept : Value(static_cast<unsigned long long>(i)) {}
    Value(unsigned long long i) noexcept {
        if (i <= static_cast<unsigned long long>(INT64_MAX)) v_ = static_cast<std::int64_t>(i);
        else v_ = static_cast<double>(i);
    }
    Value(double d) noexcept : v_(d) {}
    Value(const char* s) : v_(std::string(s)) {}
    Value(std::string s) noexcept : v_(std::move(s)) {}
    Value(std::string_view s) : v_(std::string(s)) {}
    Value(Array a) noexcept : v_(std::move(a)) {}
    Value(Object o) noexcept : v_(std::move(o)) {}

    /// An empty object / array.
    static Value object() { return Value(Object{}); }
    static Value array() { return Value(Array{}); }
    /// An object from key/value pairs: Value::object({{"id", 1}, {"name", "x"}}).
    static Value object(std::initializer_list<Member> members) { return Value(Object(members)); }

    /// Parses one JSON document (simdjson); throws JsonError, also for a document
    /// nested deeper than max_nesting_depth.
    static Value from_json(std::string_view json);
    /// Compact JSON; `indent` > 0 pretty-prints with that many spaces.
    std::string to_json(int indent = 0) const;

    Type type() const noexcept { return static_cast<Type>(v_.index()); }
    bool is_null() const noexcept { return type() == Type::null; }
    bool is_bool() const noexcept { return type() == Type::boolean; }
    bool is_int() const noexcept { return type() == Type::integer; }
    /// True for integers and floating-point numbers.
    bool is_number() const noexcept { return type() == Type::integer || type() == Type::number; }
    bool is_string() const noexcept { return type() == Type::string; }
    bool is_array() const noexcept { return type() == Type::array; }
    bool is_object() const noexcept { return type() == Type::object; }

    /// Accessors throw std::logic_error on a type mismatch.
    bool as_bool() const;
    std::int64_t as_int() const;
    /// Integers convert to double.
    double as_number() const;
    const std::string& as_string() const;
    const Array& as_array() const;
    Array& as_array();
    const Object& as_object() const;
    Object& as_object();

    /// Object member lookup; nullptr when absent or not an object.
    const Value* find(std::string_view key) const noexcept;
    Value* find(std::string_view key) noexcept;
    bool contains(std::string_view key) const noexcept { return find(key) != nullptr; }
    /// Object member, inserted as null when absent (a null Value becomes an object).
    Value& operator[](std::string_view key);
    /// Object member or a shared null when absent.
    const Value& operator[](std::string_view key) const noexcept;
    Value& operator[](std::size_t index) { return as_array().at(index); }
    const Value& operator[](std::size_t index) const { return as_array().at(index); }
    /// Sets (replaces or appends) an object member.
    void set(std::string_view key, Value value);
    /// Removes an object member; false when it was absent.
    bool erase(std::string_view key);
    /// Appends to an array (a null Value becomes an array).
    void push_back(Value value);
    /// Members of an object, elements of an array, 0 otherwise.
    std::size_t size() const noexcept;

    /// Deep equality; integers and numbers compare by numeric value; object member
    /// order does not matter.
    friend STATENET_API bool operator==(const Value& a, const Value& b) noexcept;

private:
    std::variant<std::monostate, bool, std::int64_t, double, std::string, Array, Object> v_;
};

/// Name of a Value type ("null", "boolean", "integer", "number", "string", "array", "object").
STATENET_API std::string_view type_name(Value::Type type) noexcept;

}  // namespace statenet
