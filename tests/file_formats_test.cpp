// Tests for format detection from content and the XML and whole-file sources, on real files.
#include "io/format_sniff.hpp"
#include "io/record_source.hpp"
#include "temp_dir.hpp"

#include <doctest/doctest.h>

#include <fstream>
#include <string>
#include <vector>

namespace {

using statenet::RecordFormat;
using statenet::Value;
using statenet::detail::RawRecord;
using statenet::detail::sniff_format;

RecordFormat sniffed(std::string_view text) { return sniff_format(text, true).format; }

std::string write(const statenet_test::TempDir& dir, const std::string& name, const std::string& text) {
    const auto path = (dir / name).string();
    std::ofstream(path, std::ios::binary) << text;
    return path;
}

struct Read {
    std::vector<Value> records;
    std::vector<std::string> errors;  // "line: message"
};

Read read_all(const statenet::Source& source) {
    Read out;
    auto records = statenet::detail::open_source(source);
    RawRecord raw;
    while (records->next(raw)) {
        Value value;
        if (raw.value) value = std::move(*raw.value);
        else if (!raw.error)
            if (auto failure = raw.parser->parse(raw.text, value)) raw.error = failure->error;
        if (raw.error) out.errors.push_back(std::to_string(raw.line) + ": " + raw.error->message);
        else out.records.push_back(std::move(value));
        raw.value.reset();
        raw.error.reset();
    }
    return out;
}

}  // namespace

TEST_CASE("sniff: XML, JSON lines, a JSON document, CSV with its delimiter, text and log lines") {
    CHECK(sniffed("<?xml version=\"1.0\"?>\n<a/>") == RecordFormat::xml);
    CHECK(sniffed("\xEF\xBB\xBF  <catalog></catalog>") == RecordFormat::xml);
    CHECK(sniffed("{\"a\":1}\n{\"a\":2}\n") == RecordFormat::jsonl);
    CHECK(sniffed("{\n  \"a\": 1\n}\n") == RecordFormat::json);
    CHECK(sniffed("[{\"a\":1},\n{\"a\":2}]") == RecordFormat::json);
    CHECK(sniffed("[\n  1,\n  2\n]") == RecordFormat::json);
    CHECK(sniffed("[2024-05-01 10:00:00] INFO start\n[2024-05-01 10:00:01] WARN slow\n") == RecordFormat::text);
    CHECK(sniffed("[INFO] start\n") == RecordFormat::text);
    const auto csv = sniff_format("id,name,price\n1,tea,4.5\n2,\"mate, green\",7\n", true);
    CHECK(csv.format == RecordFormat::csv);
    CHECK(csv.delimiter == ',');
    const auto semicolons = sniff_format("id;name;price\n1;tea;4,5\n2;mate;7,0\n", true);
    CHECK(semicolons.format == RecordFormat::csv);
    CHECK(semicolons.delimiter == ';');
    CHECK(sniff_format("a\tb\n1\t2\n", true).delimiter == '\t');
    CHECK(sniffed("hello world\nsecond line, with a comma\nthird\n") == RecordFormat::text);
    CHECK(sniffed("one line, alone\n") == RecordFormat::text);
    // A window cut inside a line: only the whole lines before it count.
    CHECK(sniff_format("a,b\n1,2\n3,4\n5,", false).format == RecordFormat::csv);
}

TEST_CASE("a file with no known extension is read in the format its content has") {
    statenet_test::TempDir dir("statenet_formats");
    const auto dat = write(dir, "orders.dat", "id;item\n1;tea\n2;mate\n");
    const Read csv = read_all(statenet::file_source(dat));
    REQUIRE(csv.records.size() == 2);
    CHECK(csv.records[1]["item"] == Value("mate"));

    // .txt names text; with detect the content wins and JSON lines are read as such.
    const auto txt = write(dir, "events.txt", "{\"n\":1}\n{\"n\":2}\n");
    CHECK(read_all(statenet::file_source(txt)).records[0]["line"] == Value("{\"n\":1}"));
    statenet::Source detected = statenet::file_source(txt);
    detected.detect = true;
    const Read jsonl = read_all(detected);
    REQUIRE(jsonl.records.size() == 2);
    CHECK(jsonl.records[1]["n"] == Value(2));

    // An explicit format overrides the content.
    CHECK(read_all(statenet::file_source(dat, RecordFormat::text)).records.size() == 3);
}

TEST_CASE("XML: the root's children or a named element; attributes, child text, nesting, lists") {
    statenet_test::TempDir dir("statenet_formats");
    const auto xml = write(dir, "catalog.xml", R"(<?xml version="1.0"?>
<!-- a comment with <product> in it -->
<catalog>
  <product id="1" currency="EUR"><name>Tea</name><price>4.5</price>
    <tags><tag>green</tag><tag>hot</tag></tags>
    <supplier country="CN"><name>Leaf &amp; Co</name></supplier>
  </product>
  <product id="2"><name><![CDATA[Mate <b>]]></name><note lang="en">strong</note></product>
  <product id="3"><name>Broken</price></product>
  <product id="4"/>
</catalog>)");
    const Read all = read_all(statenet::file_source(xml));
    REQUIRE(all.records.size() == 3);
    REQUIRE(all.errors.size() == 1);
    CHECK(all.errors[0].starts_with("9: "));
    const Value& tea = all.records[0];
    CHECK(tea["id"] == Value("1"));
    CHECK(tea["currency"] == Value("EUR"));
    CHECK(tea["name"] == Value("Tea"));
    CHECK(tea["price"] == Value("4.5"));
    CHECK(tea["tags"]["tag"].to_json() == R"(["green","hot"])");
    CHECK(tea["supplier"].to_json() == R"({"country":"CN","name":"Leaf & Co"})");
    CHECK(all.records[1]["name"] == Value("Mate <b>"));
    CHECK(all.records[1]["note"].to_json() == R"({"lang":"en","text":"strong"})");
    CHECK(all.records[2].to_json() == R"({"id":"4"})");

    statenet::Source tags = statenet::file_source(xml);
    tags.xml_element = "tags/tag";
    const Read by_path = read_all(tags);
    REQUIRE(by_path.records.size() == 2);
    CHECK(by_path.records[1]["text"] == Value("hot"));
    tags.xml_element = "name";  // a name at any depth, not inside another record
    CHECK(read_all(tags).records.size() == 3);
}

TEST_CASE("whole: one record holds every record of the file; a malformed one fails it") {
    statenet_test::TempDir dir("statenet_formats");
    statenet::Source source = statenet::file_source(write(dir, "rows.csv", "a,b\n1,2\n3,4\n"));
    source.whole = true;
    const Read one = read_all(source);
    REQUIRE(one.records.size() == 1);
    CHECK(one.records[0]["format"] == Value("csv"));
    CHECK(one.records[0]["records"].to_json() == R"([{"a":1,"b":2},{"a":3,"b":4}])");

    source.path = write(dir, "bad.csv", "a,b\n1,2\n3\n");
    const Read bad = read_all(source);
    CHECK(bad.records.empty());
    REQUIRE(bad.errors.size() == 1);
    CHECK(bad.errors[0].find("line 3: the row has 1 fields") != std::string::npos);
}

TEST_CASE("XML: a resumed source goes on after the checkpoint's record, its ancestors still known") {
    statenet_test::TempDir dir("statenet_formats");
    const auto xml = write(dir, "feed.xml", "<feed>\n<entry n=\"1\"/>\n<entry n=\"2\"/>\n<entry n=\"3\"/>\n</feed>\n");
    auto first = statenet::detail::open_source(statenet::file_source(xml));
    RawRecord raw;
    REQUIRE(first->next(raw));
    REQUIRE(first->next(raw));
    const std::uint64_t end = raw.end;
    auto resumed = statenet::detail::open_source(statenet::file_source(xml));
    resumed->resume(end, raw.end_line);
    RawRecord next;
    REQUIRE(resumed->next(next));
    Value value;
    REQUIRE_FALSE(next.parser->parse(next.text, value));
    CHECK(value["n"] == Value("3"));
    CHECK(next.line == 4);
    CHECK_FALSE(resumed->next(next));
}
