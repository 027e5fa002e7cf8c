// scan_object_fields: the strict scan the JSON record path starts with must never accept
// what simdjson refuses, and must find every top-level field's tokens.
#include "json/field_scan.hpp"

#include <simdjson.h>

#include <doctest/doctest.h>

#include <random>
#include <string>
#include <vector>

using statenet::detail::JsonSyntax;
using statenet::detail::scan_json_syntax;
using statenet::detail::scan_object_fields;
using statenet::detail::ScannedField;
using statenet::detail::TokenKind;

namespace {

bool scans(const std::string& text) {
    std::vector<ScannedField> fields;
    return scan_object_fields(text, fields);
}

bool simdjson_reads_object(const std::string& text) {
    simdjson::dom::parser parser;
    simdjson::dom::element root;
    return !parser.parse(text).get(root) && root.is_object();
}

/// `text` after 1 to 3 random byte edits (replace, insert, delete) from JSON's alphabet
/// and some bytes it refuses.
std::string mutated(std::string text, std::mt19937& rng) {
    const std::string alphabet = "{}[]:,\"\\ 0123456789.eE+-tfnrul\x01\x7f\xc3\xa9\xff";
    const int edits = 1 + static_cast<int>(rng() % 3);
    for (int e = 0; e < edits; ++e) {
        const std::size_t at = rng() % text.size();
        const char c = alphabet[rng() % alphabet.size()];
        switch (rng() % 3) {
        case 0: text[at] = c; break;
        case 1: text.insert(text.begin() + static_cast<std::ptrdiff_t>(at), c); break;
        default: text.erase(at, 1); break;
        }
    }
    return text;
}

const std::vector<std::string> seeds = {
    R"({"id":1,"user_id":27725,"amount":31.53,"email":"u27725@example.com","meta":{"source":"store","tags":["a","b"]}})",
    R"({"s":"he said \"hi\" \\ \u00e9","n":-0.5e-3,"t":true,"f":false,"z":null,"a":[1,[2,{"b":[]}]]})",
};

}  // namespace

TEST_CASE("field scan - finds each top-level field's key and value tokens") {
    const std::string text =
        R"( {"id":7, "s" : "a\"b", "n":{"x":[1,{"y":"}"}]},"t":true,"f":false,"z":null,"e":-1.5e3,"a":[] } )";
    std::vector<ScannedField> fields;
    REQUIRE(scan_object_fields(text, fields));
    REQUIRE(fields.size() == 8);
    CHECK(fields[0].key == "id");
    CHECK(fields[0].raw_value == "7");
    CHECK(fields[0].kind == TokenKind::number);
    CHECK(fields[0].tight);
    CHECK(!fields[0].joined);  // a space after the comma
    CHECK(fields[1].raw_key == R"("s")");
    CHECK(fields[1].raw_value == R"("a\"b")");
    CHECK(fields[1].kind == TokenKind::escaped_string);
    CHECK(!fields[1].tight);
    CHECK(fields[2].raw_value == R"({"x":[1,{"y":"}"}]})");
    CHECK(fields[2].kind == TokenKind::object);
    CHECK(fields[2].joined);
    CHECK(fields[3].kind == TokenKind::true_value);
    CHECK(fields[4].kind == TokenKind::false_value);
    CHECK(fields[5].kind == TokenKind::null);
    CHECK(fields[6].raw_value == "-1.5e3");
    CHECK(fields[7].kind == TokenKind::array);
}

TEST_CASE("field scan - refuses what is not one JSON object, and what it leaves to simdjson") {
    for (const std::string& bad : std::vector<std::string>{
             "",
             "[]",
             "1",
             "\"s\"",
             "{",
             "}",
             "{\"a\"}",
             "{\"a\":}",
             "{\"a\":1,}",
             "{,}",
             "{\"a\":1} x",
             "{\"a\":1}{}",
             "{'a':1}",
             "{a:1}",
             "{\"a\":01}",
             "{\"a\":1.}",
             "{\"a\":.5}",
             "{\"a\":1e}",
             "{\"a\":+1}",
             "{\"a\":-}",
             "{\"a\":tru}",
             "{\"a\":nul}",
             "{\"a\":True}",
             "{\"a\":\"x\ny\"}",
             "{\"a\":\"\\x\"}",
             "{\"a\":\"\\u12\"}",
             "{\"a\":\"\xff\"}",
             "{\"a\":\"\xc3\"}",
             "{\"a\":\"\xed\xa0\x80\"}",
             "{\"a\":[1,]}",
             "{\"a\":[1 2]}",
             "{\"a\":{\"b\" 1}}",
             "{\"a\":1 \"b\":2}",
             "{\"a\":18446744073709551616}",
             "{\"a\":-9223372036854775809}",
             "{\"a\":1e400}",
             "{\"a\":\"\\ud800\"}",
             "{\"a\":\"\\udc00\"}",
             "{\"k\\n\":1}",
             std::string("{\"a\":\"x\0y\"}", 11),
             "\xef\xbb\xbf{}",
         }) {
        CAPTURE(bad);
        CHECK(!scans(bad));
    }
    std::string deep = "{\"a\":";
    for (int i = 0; i < 200; ++i) deep += '[';
    for (int i = 0; i < 200; ++i) deep += ']';
    CHECK(!scans(deep + "}"));
}

TEST_CASE("field scan - accepts what JSON allows at the edges") {
    for (const std::string& good : std::vector<std::string>{
             "{}",
             " {} ",
             "\t{\r\n}\n",
             "{\"\":0}",
             "{\"a\":-0}",
             "{\"a\":0.0e-0}",
             "{\"a\":1E+2}",
             "{\"a\":9223372036854775807}",
             "{\"a\":-9223372036854775808}",
             "{\"a\":18446744073709551615}",
             "{\"a\":\"\\u00e9\\ud83d\\ude00\\/\\b\\f\\n\\r\\t\\\\\\\"\"}",
             "{\"a\":\"\xc3\xa9\xf0\x9f\x98\x80\"}",
             "{\"a\":[[],{},[{}]],\"b\":{\"c\":{\"d\":[null,true,false]}}}",
         }) {
        CAPTURE(good);
        CHECK(scans(good));
        CHECK(simdjson_reads_object(good));
    }
}

TEST_CASE("field scan - never accepts a mutated record simdjson refuses") {
    // Random byte edits of valid records: whatever the scan accepts, simdjson must too
    // (the other way round is allowed: the scan may leave a record to simdjson).
    std::mt19937 rng(20261124);
    int accepted = 0;
    for (int round = 0; round < 20000; ++round) {
        const std::string text = mutated(seeds[static_cast<std::size_t>(round) % seeds.size()], rng);
        std::vector<ScannedField> fields;
        if (!scan_object_fields(text, fields)) continue;
        ++accepted;
        CAPTURE(text);
        REQUIRE(simdjson_reads_object(text));
    }
    CHECK(accepted > 100);  // the edits leave enough valid records to compare
}

TEST_CASE("field scan - the error path's grammar refuses exactly what simdjson refuses") {
    // Value::from_json locates simdjson's errors with scan_json_syntax: the two must agree
    // on every document, but for integers beyond 64 bits (valid JSON simdjson refuses).
    std::mt19937 rng(20261204);
    int refused = 0;
    for (int round = 0; round < 20000; ++round) {
        const std::string text = mutated(seeds[static_cast<std::size_t>(round) % seeds.size()], rng);
        const JsonSyntax syntax = scan_json_syntax(text);
        if (!syntax.big_integer_ends.empty()) continue;
        simdjson::dom::parser parser;
        simdjson::dom::element root;
        const bool valid = !parser.parse(text).get(root);
        CAPTURE(text);
        CHECK(valid == (syntax.error == std::string::npos));
        if (!valid) ++refused;
    }
    CHECK(refused > 1000);
    CHECK(scan_json_syntax("[1e-400, 123456789012345678901234567890]").error == std::string::npos);
    CHECK(scan_json_syntax("[1e-400, 123456789012345678901234567890]").big_integer_ends ==
          std::vector<std::size_t>{39});
    CHECK(scan_json_syntax(std::string(200, '[') + std::string(200, ']')).error == std::string::npos);
    CHECK(scan_json_syntax(R"({"k\u00e9": 1,})").error == 14);
}
