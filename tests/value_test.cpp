// Unit tests for statenet::Value (JSON in and out, access, equality) and the error catalogue.
#include <statenet/error.hpp>
#include <statenet/value.hpp>

#include <doctest/doctest.h>

#include <charconv>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <thread>
#include <vector>

using statenet::JsonError;
using statenet::max_nesting_depth;
using statenet::Value;

namespace {

// The offset a malformed document is reported at (npos when it parses).
std::size_t error_offset(std::string_view json) {
    try {
        Value::from_json(json);
    } catch (const JsonError& e) {
        return e.offset();
    }
    return std::string_view::npos;
}

std::string error_text(std::string_view json) {
    try {
        Value::from_json(json);
    } catch (const JsonError& e) {
        return e.what();
    }
    return {};
}

std::string round_trip(std::string_view json) { return Value::from_json(json).to_json(); }

}  // namespace

TEST_CASE("value - parses nested objects in order") {
    const Value v = Value::from_json(R"({"zeta": 1, "alpha": {"b": [1, 2, {"c": null}], "a": true}, "mid": "x"})");
    REQUIRE(v.is_object());
    const auto& members = v.as_object();
    REQUIRE(members.size() == 3);
    CHECK(members[0].first == "zeta");
    CHECK(members[1].first == "alpha");
    CHECK(members[2].first == "mid");
    CHECK(v["alpha"].as_object()[0].first == "b");
    CHECK(v["alpha"]["b"][2]["c"].is_null());
    CHECK(v["alpha"]["a"].as_bool());
    CHECK(v.to_json() == R"({"zeta":1,"alpha":{"b":[1,2,{"c":null}],"a":true},"mid":"x"})");
}

TEST_CASE("value - parses scalars at the root") {
    CHECK(Value::from_json("null").is_null());
    CHECK(Value::from_json(" true ").as_bool());
    CHECK_FALSE(Value::from_json("false").as_bool());
    CHECK(Value::from_json("42").as_int() == 42);
    CHECK(Value::from_json("\"hi\"").as_string() == "hi");
    CHECK(Value::from_json("[]").size() == 0);
    CHECK(Value::from_json("{}").is_object());
}

TEST_CASE("value - keeps the last of duplicate keys at the first key's place") {
    const Value v = Value::from_json(R"({"a": 1, "b": 2, "a": 3})");
    CHECK(v.size() == 2);
    CHECK(v.to_json() == R"({"a":3,"b":2})");

    // Large objects detect duplicates another way; the result must be the same.
    std::string json = "{";
    for (int i = 0; i < 40; ++i) {
        json += "\"k" + std::to_string(i) + "\":" + std::to_string(i) + ",";
    }
    json += "\"k5\":\"last\"}";
    const Value big = Value::from_json(json);
    CHECK(big.size() == 40);
    CHECK(big.as_object()[5].first == "k5");
    CHECK(big["k5"].as_string() == "last");
}

TEST_CASE("value - reuses the parser without leaking the previous document") {
    CHECK(Value::from_json("[123456789, \"long string here\"]").size() == 2);
    CHECK(Value::from_json("1").as_int() == 1);
    CHECK(Value::from_json("7").as_int() == 7);
    CHECK_THROWS_AS(Value::from_json("\"a"), JsonError);
    CHECK(Value::from_json("\"a\"").as_string() == "a");
}

TEST_CASE("value - parses on several threads at once") {
    std::vector<std::thread> threads;
    std::vector<int> mismatches(4, 0);
    for (int t = 0; t < 4; ++t) {
        threads.emplace_back([t, &mismatches] {
            const std::string json = R"({"thread":)" + std::to_string(t) + R"(,"items":[1,2,3],"name":"worker"})";
            for (int i = 0; i < 2000; ++i) {
                const Value v = Value::from_json(json);
                if (v["thread"].as_int() != t || v["items"].size() != 3) {
                    ++mismatches[static_cast<std::size_t>(t)];
                }
            }
        });
    }
    for (auto& thread : threads) {
        thread.join();
    }
    CHECK(mismatches == std::vector<int>(4, 0));
}

TEST_CASE("value - integers within int64 stay integers") {
    const Value max = Value::from_json("9223372036854775807");
    REQUIRE(max.is_int());
    CHECK(max.as_int() == std::numeric_limits<std::int64_t>::max());
    const Value min = Value::from_json("-9223372036854775808");
    REQUIRE(min.is_int());
    CHECK(min.as_int() == std::numeric_limits<std::int64_t>::min());
    CHECK(Value::from_json("0").is_int());
    CHECK(round_trip("[9223372036854775807,-9223372036854775808]") == "[9223372036854775807,-9223372036854775808]");
}

TEST_CASE("value - integers beyond int64 become numbers") {
    const Value above = Value::from_json("9223372036854775808");
    CHECK(above.type() == Value::Type::number);
    CHECK(above.as_number() == 9223372036854775808.0);
    CHECK(Value::from_json("18446744073709551615").type() == Value::Type::number);
    const Value below = Value::from_json("-9223372036854775809");
    CHECK(below.type() == Value::Type::number);
    CHECK(below.as_number() == -9223372036854775808.0);
    const Value huge = Value::from_json(R"({"id": 123456789012345678901234567890, "n": 1})");
    CHECK(huge["id"].type() == Value::Type::number);
    CHECK(huge["id"].as_number() == doctest::Approx(1.2345678901234568e29));
    CHECK(huge["n"].as_int() == 1);
    CHECK(huge.as_object()[1].first == "n");
}

TEST_CASE("value - parses doubles and exponents") {
    CHECK(Value::from_json("1.5").as_number() == 1.5);
    CHECK(Value::from_json("-0.25").as_number() == -0.25);
    const Value exponent = Value::from_json("1e3");
    CHECK(exponent.type() == Value::Type::number);
    CHECK(exponent.as_number() == 1000.0);
    CHECK(Value::from_json("2.5E-3").as_number() == 0.0025);
    CHECK(Value::from_json("1e+2").as_number() == 100.0);
    CHECK(Value::from_json("1.0").type() == Value::Type::number);
    CHECK(Value::from_json("1e-400").as_number() == 0.0);
    CHECK(Value::from_json("1.7976931348623157e308").as_number() == std::numeric_limits<double>::max());
}

TEST_CASE("value - prints doubles in their shortest round-trip form") {
    CHECK(Value(0.1).to_json() == "0.1");
    CHECK(Value(-1.5).to_json() == "-1.5");
    CHECK(Value(1e20).to_json() == "1e+20");
    CHECK(Value(5e-324).to_json() == "5e-324");
    // Integral doubles keep ".0" so they read back as numbers, not integers.
    CHECK(Value(2.0).to_json() == "2.0");
    CHECK(Value(-0.0).to_json() == "-0.0");
    CHECK(Value::from_json(Value(2.0).to_json()).type() == Value::Type::number);

    const double third = 1.0 / 3.0;
    CHECK(Value::from_json(Value(third).to_json()).as_number() == third);
    CHECK(round_trip("[0.30000000000000004,1e-7,123.456]") == "[0.30000000000000004,1e-07,123.456]");
}

TEST_CASE("value - writes NaN and infinity as null") {
    CHECK(Value(std::nan("")).to_json() == "null");
    CHECK(Value(std::numeric_limits<double>::infinity()).to_json() == "null");
    CHECK(Value(-std::numeric_limits<double>::infinity()).to_json() == "null");
}

TEST_CASE("value - escapes quotes, backslashes and control characters") {
    const Value s(std::string("a\"b\\c\nd\te\r\b\f\x01\x1f/\x7f") + std::string(1, '\0'));
    CHECK(s.to_json() == R"("a\"b\\c\nd\te\r\b\f\u0001\u001f/)"
                         "\x7f"
                         R"(\u0000")");
    CHECK(Value::from_json(s.to_json()) == s);
    CHECK(Value::from_json(R"("\/\u0041\n")").as_string() == "/A\n");
    CHECK(Value::object({{"k\"ey", 1}}).to_json() == R"({"k\"ey":1})");
}

TEST_CASE("value - passes UTF-8 through and decodes unicode escapes") {
    CHECK(Value::from_json(R"("caf\u00e9")").as_string() == "caf\xc3\xa9");
    CHECK(Value::from_json(R"("\ud83d\ude00")").as_string() == "\xf0\x9f\x98\x80");
    CHECK(Value("gr\xc3\xbc\xc3\x9f \xe2\x82\xac \xf0\x9f\x98\x80").to_json() ==
          "\"gr\xc3\xbc\xc3\x9f \xe2\x82\xac \xf0\x9f\x98\x80\"");
    CHECK(round_trip("{\"\xc3\xa9\":\"\xe6\x97\xa5\xe6\x9c\xac\"}") == "{\"\xc3\xa9\":\"\xe6\x97\xa5\xe6\x9c\xac\"}");
}

TEST_CASE("value - replaces bytes that are not UTF-8 so the output stays JSON") {
    const Value binary(
        std::string("a\xff"
                    "b\xc3"));
    CHECK(binary.to_json() == R"("a\ufffdb\ufffd")");
    CHECK(Value("\xed\xa0\x80").to_json() == R"("\ufffd\ufffd\ufffd")");  // an encoded surrogate
    CHECK_NOTHROW(Value::from_json(binary.to_json()));
}

TEST_CASE("value - pretty prints with the given indent") {
    const Value v = Value::from_json(R"({"a":[1,{"b":null}],"c":{},"d":[]})");
    CHECK(v.to_json(2) ==
          "{\n"
          "  \"a\": [\n"
          "    1,\n"
          "    {\n"
          "      \"b\": null\n"
          "    }\n"
          "  ],\n"
          "  \"c\": {},\n"
          "  \"d\": []\n"
          "}");
    CHECK(Value::array().to_json(4) == "[]");
    CHECK(Value(1).to_json(4) == "1");
    CHECK(Value::from_json(v.to_json(3)) == v);
    CHECK(v.to_json(-1) == v.to_json());
}

TEST_CASE("value - rejects malformed JSON with the byte offset") {
    CHECK(error_offset(R"({"a":1,})") == 7);
    CHECK(error_offset("[1,2") == 4);
    CHECK(error_offset("[1,,2]") == 3);
    CHECK(error_offset(R"({"a" 1})") == 5);
    CHECK(error_offset(R"({"a":1}})") == 7);
    CHECK(error_offset("[tru]") == 1);
    CHECK(error_offset("[nulll]") == 1);
    CHECK(error_offset("[1, 01]") == 4);
    CHECK(error_offset("[1.]") == 1);
    CHECK(error_offset("[2, 1e400]") == 4);
    CHECK(error_offset("123abc") == 0);
    CHECK(error_offset(R"(["ok", "a\qb"])") == 9);
    CHECK(error_offset(R"(["\ud800"])") == 2);
    CHECK(error_offset("[\"ok\", \"a\x01\"]") == 9);
    CHECK(error_offset("[\"ok\", \"\xff\"]") == 8);
    CHECK(error_offset(R"([1, "abc])") == 4);
    CHECK(error_offset("") == 0);
    CHECK(error_offset("   ") == 3);
    // A big integer is not an error, and does not hide the real one after it.
    CHECK(error_offset("[100000000000000000000000, x]") == 27);
    // Nor are a tiny number, an escaped key or nesting deeper than the record scan goes.
    CHECK(error_offset("[1e-400, x]") == 9);
    CHECK(error_offset(R"({"k\u00e9": 1,})") == 14);
    CHECK(error_offset(std::string(200, '[') + "x") == 200);
}

TEST_CASE("value - rejects trailing content after the document") {
    CHECK(error_offset("[1] x") == 4);
    CHECK(error_offset("1 2") == 2);
    CHECK(error_offset("{} {}") == 3);
    CHECK(error_offset("true false") == 5);
    CHECK(error_offset("[1]\n\t ") == std::string_view::npos);
}

TEST_CASE("value - rejects documents nested deeper than max_nesting_depth, saying where") {
    const auto nested = [](int levels, std::string_view inside = "") {
        return std::string(static_cast<std::size_t>(levels), '[') + std::string(inside) +
               std::string(static_cast<std::size_t>(levels), ']');
    };
    CHECK(Value::from_json(nested(max_nesting_depth)).is_array());
    // The deepest container may hold values (simdjson alone would count the 1 as a level).
    CHECK(Value::from_json(nested(max_nesting_depth, "1,\"s\"")).is_array());
    CHECK(error_offset(nested(max_nesting_depth + 1)) == max_nesting_depth);
    CHECK(error_offset(nested(max_nesting_depth + 1, "1")) == max_nesting_depth);
    CHECK(error_text(nested(max_nesting_depth + 1)) == "invalid JSON at byte 128: nested deeper than 128 levels");
    // Strings with brackets do not count; the level is found past them.
    CHECK(error_offset("[\"[[[\\\"[\"," + nested(max_nesting_depth) + "]") == 10 + max_nesting_depth - 1);
    // A big integer does not hide the depth error's place.
    CHECK(error_offset("[100000000000000000000000," + nested(max_nesting_depth) + "]") == 26 + max_nesting_depth - 1);
    CHECK(error_offset(nested(100000)) == max_nesting_depth);
}

TEST_CASE("value - JSON errors explain what is wrong and where") {
    CHECK(error_text("\"abc") == "invalid JSON at byte 0: a string is opened, but never closed.");
    CHECK(error_text("[1,]").rfind("invalid JSON at byte 3: the JSON document has an improper structure", 0) == 0);
    CHECK(error_text("[1e999]") == "invalid JSON at byte 1: problem while parsing a number");
}

TEST_CASE("value - compares numbers by value across integer and number") {
    CHECK(Value(1) == Value(1.0));
    CHECK(Value(1.0) == Value(1));
    CHECK(Value(1) != Value(1.5));
    CHECK(Value(std::numeric_limits<std::int64_t>::max()) != Value(9223372036854775808.0));
    CHECK(Value(std::numeric_limits<std::int64_t>::min()) == Value(-9223372036854775808.0));
    CHECK(Value(std::nan("")) != Value(std::nan("")));
    CHECK(Value(1) != Value(true));
    CHECK(Value("1") != Value(1));
    CHECK(Value() == Value(nullptr));
    CHECK(Value() != Value(false));
}

TEST_CASE("value - compares objects regardless of member order") {
    CHECK(Value::from_json(R"({"a":1,"b":[1,{"c":2}]})") == Value::from_json(R"({"b":[1,{"c":2.0}],"a":1})"));
    CHECK(Value::from_json(R"({"a":1,"b":2})") != Value::from_json(R"({"a":1,"b":3})"));
    CHECK(Value::from_json(R"({"a":1,"b":2})") != Value::from_json(R"({"a":1,"c":2})"));
    CHECK(Value::from_json(R"({"a":1})") != Value::from_json(R"({"a":1,"b":2})"));
    // Arrays are ordered.
    CHECK(Value::from_json("[1,2]") != Value::from_json("[2,1]"));
}

TEST_CASE("value - accessors throw on a type mismatch") {
    const Value s("text");
    CHECK_THROWS_WITH_AS(s.as_int(), "statenet::Value: expected integer, got string", std::logic_error);
    CHECK_THROWS_WITH_AS(Value(3).as_string(), "statenet::Value: expected string, got integer", std::logic_error);
    CHECK_THROWS_WITH_AS(Value(1.5).as_int(), "statenet::Value: expected integer, got number", std::logic_error);
    CHECK_THROWS_WITH_AS(Value().as_bool(), "statenet::Value: expected boolean, got null", std::logic_error);
    CHECK_THROWS_WITH_AS(Value::array().as_object(), "statenet::Value: expected object, got array", std::logic_error);
    CHECK_THROWS_WITH_AS(Value::object().as_array(), "statenet::Value: expected array, got object", std::logic_error);
    CHECK_THROWS_AS(Value(true).as_number(), std::logic_error);
    CHECK(Value(7).as_number() == 7.0);
    CHECK_THROWS_AS(Value::from_json("[1]")[std::size_t{1}], std::out_of_range);
}

TEST_CASE("value - operator[] inserts absent members as null") {
    Value v;
    v["name"] = "x";
    CHECK(v.is_object());
    Value& inserted = v["missing"];
    CHECK(inserted.is_null());
    CHECK(v.size() == 2);
    v["nested"]["deep"] = 1;
    CHECK(v.to_json() == R"({"name":"x","missing":null,"nested":{"deep":1}})");
    v["name"] = 2;
    CHECK(v.size() == 3);
    CHECK_THROWS_AS(Value(1)["key"], std::logic_error);
}

TEST_CASE("value - const operator[] and find do not insert") {
    const Value v = Value::object({{"a", 1}});
    CHECK(v["b"].is_null());
    CHECK(v.size() == 1);
    CHECK(v.find("a")->as_int() == 1);
    CHECK(v.find("b") == nullptr);
    CHECK(v.contains("a"));
    CHECK_FALSE(Value(1).contains("a"));
    const Value text("s");
    CHECK(text["a"].is_null());
}

TEST_CASE("value - set replaces in place or appends") {
    Value v = Value::object({{"a", 1}, {"b", 2}});
    v.set("a", "one");
    v.set("c", 3);
    CHECK(v.to_json() == R"({"a":"one","b":2,"c":3})");
    Value empty;
    empty.set("k", true);
    CHECK(empty.to_json() == R"({"k":true})");
}

TEST_CASE("value - erase removes a member and keeps the order of the rest") {
    Value v = Value::from_json(R"({"a":1,"b":2,"c":3})");
    CHECK(v.erase("b"));
    CHECK_FALSE(v.erase("b"));
    CHECK(v.to_json() == R"({"a":1,"c":3})");
    Value null_value;
    CHECK_FALSE(null_value.erase("a"));
    CHECK_THROWS_AS(Value(1).erase("a"), std::logic_error);
}

TEST_CASE("value - push_back appends and turns null into an array") {
    Value v;
    v.push_back(1);
    v.push_back("two");
    v.push_back(Value::object());
    CHECK(v.to_json() == R"([1,"two",{}])");
    CHECK(v.size() == 3);
    CHECK_THROWS_AS(Value("s").push_back(1), std::logic_error);
}

TEST_CASE("value - size counts members and elements only") {
    CHECK(Value::from_json(R"({"a":1,"b":2})").size() == 2);
    CHECK(Value::from_json("[1,2,3]").size() == 3);
    CHECK(Value("abc").size() == 0);
    CHECK(Value(5).size() == 0);
    CHECK(Value().size() == 0);
}

TEST_CASE("value - type names") {
    CHECK(statenet::type_name(Value::Type::null) == "null");
    CHECK(statenet::type_name(Value::Type::boolean) == "boolean");
    CHECK(statenet::type_name(Value::Type::integer) == "integer");
    CHECK(statenet::type_name(Value::Type::number) == "number");
    CHECK(statenet::type_name(Value::Type::string) == "string");
    CHECK(statenet::type_name(Value::Type::array) == "array");
    CHECK(statenet::type_name(Value::Type::object) == "object");
}

TEST_CASE("error - catalogue names are stable and messages match") {
    using statenet::ErrorCode;
    CHECK(statenet::error_name(ErrorCode::ValidationFailed) == "ValidationFailed");
    CHECK(statenet::error_name(ErrorCode::SchemaViolation) == "SchemaViolation");
    CHECK(statenet::error_name(ErrorCode::NoTransition) == "NoTransition");
    CHECK(statenet::error_name(ErrorCode::MaxTransitions) == "MaxTransitions");
    CHECK(statenet::error_name(ErrorCode::Timeout) == "Timeout");
    CHECK(statenet::error_name(ErrorCode::LuaError) == "LuaError");
    CHECK(statenet::error_name(ErrorCode::ResourceError) == "ResourceError");
    CHECK(statenet::error_name(ErrorCode::Conflict) == "Conflict");
    CHECK(statenet::error_name(ErrorCode::PushFailed) == "PushFailed");
    CHECK(statenet::error_message(ErrorCode::NoTransition) == "no valid transition");
    CHECK(statenet::error_message(ErrorCode::Timeout) == "record timed out");
    CHECK(statenet::error_message(ErrorCode::SchemaViolation) == "record does not match the state's schema");
}

TEST_CASE("error - diagnostic str omits an unknown line and column") {
    using statenet::Diagnostic;
    CHECK(Diagnostic{"flow.toml", 3, 7, "unknown key"}.str() == "flow.toml:3:7: unknown key");
    CHECK(Diagnostic{"flow.toml", 3, 0, "unknown key"}.str() == "flow.toml:3: unknown key");
    CHECK(Diagnostic{"flow.toml", 0, 0, "cannot open"}.str() == "flow.toml: cannot open");
    CHECK(Diagnostic{"flow.toml", 0, 5, "cannot open"}.str() == "flow.toml: cannot open");
}

TEST_CASE("error - load error lists every diagnostic") {
    const statenet::LoadError error({{"a.toml", 1, 2, "first"}, {"b.lua", 9, 0, "second"}});
    CHECK(std::string(error.what()) == "a.toml:1:2: first\nb.lua:9: second");
    REQUIRE(error.diagnostics().size() == 2);
    CHECK(error.diagnostics()[1].file == "b.lua");
}

TEST_CASE("json - doubles are written as std::to_chars writes them, decimals fast path included") {
    // The writer formats doubles with few decimals itself; the text must be exactly
    // to_chars' shortest form for those and for everything else.
    auto expected = [](double d) {
        char buffer[32];
        const auto end = std::to_chars(buffer, buffer + sizeof buffer, d).ptr;
        std::string text(buffer, end);
        if (text.find_first_of(".e") == std::string::npos) text += ".0";
        return text;
    };
    std::vector<double> values = {0.5,
                                  -0.5,
                                  0.05,
                                  0.005,
                                  0.0005,
                                  0.0001,
                                  1e-5,
                                  12.5,
                                  1234.56,
                                  -99.99,
                                  0.1,
                                  0.2,
                                  0.3,
                                  1.1,
                                  2.675,
                                  1e10 + 0.5,
                                  99999999999.5,
                                  1e11 + 0.5,
                                  4503599627370.4961,
                                  0.3333333333333333,
                                  123456.7891,
                                  1.0001,
                                  9.9999};
    std::uint64_t state = 0x9e3779b97f4a7c15ULL;
    auto next = [&] {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        return state;
    };
    for (int i = 0; i < 200000; ++i) {
        const auto n = static_cast<double>(next() % 100000000);
        values.push_back(n / 100);                                        // prices
        values.push_back(n / 10000 * ((i & 1) ? -1 : 1));                 // rates
        values.push_back(std::floor(n * 1.2 + 0.5) / 100);                // the benchmark's amount_with_tax
        values.push_back(static_cast<double>(next() >> 11) * 0x1.0p-40);  // anything
    }
    std::size_t compared = 0;
    for (double d : values) {
        if (d == std::floor(d)) continue;  // integral doubles leave Lua as integers
        ++compared;
        const std::string written = Value(d).to_json();
        if (written == expected(d)) continue;
        CAPTURE(d);
        REQUIRE(written == expected(d));
    }
    CHECK(compared > 700000);
}
