// statenet::Value: member access and equality (JSON input and output are in src/json/).
#include <statenet/value.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>

namespace statenet {

namespace {

[[noreturn]] void throw_type_mismatch(Value::Type expected, Value::Type actual) {
    std::string message = "statenet::Value: expected ";
    message += type_name(expected);
    message += ", got ";
    message += type_name(actual);
    throw std::logic_error(message);
}

// Exact: converting the integer to double would make 2^63-1 equal 2^63.
bool integer_equals_double(std::int64_t i, double d) noexcept {
    constexpr double two_to_63 = 9223372036854775808.0;
    if (!(d >= -two_to_63 && d < two_to_63) || std::trunc(d) != d) {
        return false;
    }
    return static_cast<std::int64_t>(d) == i;
}

bool objects_equal(const Value::Object& a, const Value::Object& b) noexcept {
    if (a.size() != b.size()) {
        return false;
    }
    for (std::size_t i = 0; i < a.size(); ++i) {
        // Members usually come in the same order, so try the same position first.
        if (a[i].first == b[i].first) {
            if (!(a[i].second == b[i].second)) {
                return false;
            }
            continue;
        }
        const auto other =
            std::find_if(b.begin(), b.end(), [&](const Value::Member& m) { return m.first == a[i].first; });
        if (other == b.end() || !(a[i].second == other->second)) {
            return false;
        }
    }
    return true;
}

}  // namespace

// ---- Value members ----------------------------------------------------------------

bool Value::as_bool() const {
    if (const auto* b = std::get_if<bool>(&v_)) {
        return *b;
    }
    throw_type_mismatch(Type::boolean, type());
}

std::int64_t Value::as_int() const {
    if (const auto* i = std::get_if<std::int64_t>(&v_)) {
        return *i;
    }
    throw_type_mismatch(Type::integer, type());
}

double Value::as_number() const {
    if (const auto* d = std::get_if<double>(&v_)) {
        return *d;
    }
    if (const auto* i = std::get_if<std::int64_t>(&v_)) {
        return static_cast<double>(*i);
    }
    throw_type_mismatch(Type::number, type());
}

const std::string& Value::as_string() const {
    if (const auto* s = std::get_if<std::string>(&v_)) {
        return *s;
    }
    throw_type_mismatch(Type::string, type());
}

const Value::Array& Value::as_array() const {
    if (const auto* a = std::get_if<Array>(&v_)) {
        return *a;
    }
    throw_type_mismatch(Type::array, type());
}

Value::Array& Value::as_array() {
    if (auto* a = std::get_if<Array>(&v_)) {
        return *a;
    }
    throw_type_mismatch(Type::array, type());
}

const Value::Object& Value::as_object() const {
    if (const auto* o = std::get_if<Object>(&v_)) {
        return *o;
    }
    throw_type_mismatch(Type::object, type());
}

Value::Object& Value::as_object() {
    if (auto* o = std::get_if<Object>(&v_)) {
        return *o;
    }
    throw_type_mismatch(Type::object, type());
}

const Value* Value::find(std::string_view key) const noexcept {
    const auto* members = std::get_if<Object>(&v_);
    if (!members) {
        return nullptr;
    }
    for (const auto& member : *members) {
        if (member.first == key) {
            return &member.second;
        }
    }
    return nullptr;
}

Value* Value::find(std::string_view key) noexcept { return const_cast<Value*>(std::as_const(*this).find(key)); }

Value& Value::operator[](std::string_view key) {
    if (is_null()) {
        v_ = Object{};
    }
    auto& members = as_object();
    if (Value* existing = find(key)) {
        return *existing;
    }
    return members.emplace_back(std::string(key), Value()).second;
}

const Value& Value::operator[](std::string_view key) const noexcept {
    static const Value null_value;
    const Value* member = find(key);
    return member ? *member : null_value;
}

void Value::set(std::string_view key, Value value) { (*this)[key] = std::move(value); }

bool Value::erase(std::string_view key) {
    // A null Value is an empty object for mutation, as in operator[].
    if (is_null()) {
        return false;
    }
    auto& members = as_object();
    const auto found = std::find_if(members.begin(), members.end(), [&](const Member& m) { return m.first == key; });
    if (found == members.end()) {
        return false;
    }
    members.erase(found);
    return true;
}

void Value::push_back(Value value) {
    if (is_null()) {
        v_ = Array{};
    }
    as_array().push_back(std::move(value));
}

std::size_t Value::size() const noexcept {
    if (const auto* members = std::get_if<Object>(&v_)) {
        return members->size();
    }
    if (const auto* elements = std::get_if<Array>(&v_)) {
        return elements->size();
    }
    return 0;
}

bool operator==(const Value& a, const Value& b) noexcept {
    const auto* ai = std::get_if<std::int64_t>(&a.v_);
    const auto* bi = std::get_if<std::int64_t>(&b.v_);
    const auto* ad = std::get_if<double>(&a.v_);
    const auto* bd = std::get_if<double>(&b.v_);
    if (ai && bd) {
        return integer_equals_double(*ai, *bd);
    }
    if (ad && bi) {
        return integer_equals_double(*bi, *ad);
    }
    if (a.v_.index() != b.v_.index()) {
        return false;
    }
    if (const auto* ao = std::get_if<Value::Object>(&a.v_)) {
        return objects_equal(*ao, std::get<Value::Object>(b.v_));
    }
    return a.v_ == b.v_;
}

std::string_view type_name(Value::Type type) noexcept {
    switch (type) {
    case Value::Type::null: return "null";
    case Value::Type::boolean: return "boolean";
    case Value::Type::integer: return "integer";
    case Value::Type::number: return "number";
    case Value::Type::string: return "string";
    case Value::Type::array: return "array";
    case Value::Type::object: return "object";
    }
    return "unknown";
}

}  // namespace statenet
