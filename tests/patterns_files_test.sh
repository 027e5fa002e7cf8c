#!/usr/bin/env bash
# std:files end to end through the CLI on real files: each format, detection from content
# (a CSV saved as .dat, JSON lines in a .txt), each mode, malformed records going to the
# errors file while the rest goes on, XML with attributes and nesting, SQLite and CSV
# sinks, `statenet new files` and examples/files; and `statenet run -i` on XML and on
# sniffed files.
# Usage: tests/patterns_files_test.sh STATENET_BINARY SOURCE_ROOT
set -euo pipefail

statenet=$1
root=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
die() { echo "FAIL: $*" >&2; exit 1; }
files() { (cd "$tmp" && "$statenet" run std:files --data '{}' "$@"); }
# canon FILE: a JSONL file's records, or a CSV file's rows (as JSON), with sorted keys:
# a record's field order is not part of what is checked.
canon() {
    python3 -c '
import csv, json, sys
path, text = sys.argv[1], sys.stdin.read() if sys.argv[1] == "-" else open(sys.argv[1]).read()
if path.endswith(".csv"):
    rows = list(csv.DictReader(text.splitlines()))
else:
    rows = [json.loads(line) for line in text.splitlines() if line.strip()]
for row in rows:
    print(json.dumps(row, sort_keys=True, separators=(",", ":")))
' "$1"
}
# expect_out FILE EXPECTED: the file's records (CSV: EXPECTED is CSV too), field order aside.
expect_out() {
    local got want
    got=$(canon "$1") || die "$1 is not readable as records: $(cat "$1")"
    if [[ $1 == *.csv ]]; then want=$(printf '%s\n' "$2" >"$tmp/want.csv" && canon "$tmp/want.csv")
    else want=$(printf '%s\n' "$2" | canon -); fi
    [[ $got == "$want" ]] || die "$1:
$(cat "$1")
expected:
$2"
}
report() { grep -q "\"$1\": $2" "$tmp/result.json" || die "report $1 is not $2: $(cat "$tmp/result.json")"; }

echo "== CSV saved as .dat (';' separator): detected, mapped, filtered, transformed into SQLite"
printf 'id;name;qty;price\n1;tea;2;4.5\n2;mate;0;7\n3;coffee;1\n4;rooibos;3;5\n' >"$tmp/orders.dat"
cat >"$tmp/shop.lua" <<'EOF'
local M = {}
function M.total(data) data.total = data.qty * data.price end
function M.upper(data) data.name = data.name:upper() end
function M.not_mate(data) return data.name ~= "mate" and data.name ~= "MATE" end
function M.count(data) data.items[#data.items + 1] = { name = "batch of " .. #data.items } end
function M.summary(data)
  local n = 0
  for i = 1, #data.records do n = n + data.records[i].qty end
  return { file = data.format, records = #data.records, qty = n }
end
return M
EOF
files --param input=orders.dat --param transform=shop.total --param where='data.qty > 0' \
    --param 'sink={"database":"out.db","table":"orders","key":"id"}' >"$tmp/result.json"
report total 4; report emitted 2; report excluded 1; report failed 1
[[ $(sqlite3 "$tmp/out.db" "SELECT group_concat(id || ':' || name || ':' || total, ',') FROM orders") == "1:tea:9,4:rooibos:15" ]] ||
    die "orders table: $(sqlite3 "$tmp/out.db" 'SELECT * FROM orders')"
grep -q '"line":4' "$tmp/files-rejected.jsonl" || die "the bad row's line: $(cat "$tmp/files-rejected.jsonl")"
grep -q 'the row has 3 fields, the header has 4' "$tmp/files-rejected.jsonl" || die "the bad row's reason"
# Upserting again keeps one row per key.
files --param input=orders.dat --param transform=shop.total --param where='data.qty > 0' \
    --param 'sink={"database":"out.db","table":"orders","key":"id"}' >/dev/null
[[ $(sqlite3 "$tmp/out.db" "SELECT count(*) FROM orders") == 2 ]] || die "upsert twice"

echo "== JSON lines in a .txt: format auto reads them as JSONL; format text overrides"
printf '{"id":1,"name":"tea"}\n{"id":2,"name":"mate"}\nnot json\n{"id":3,"name":"kava"}\n' >"$tmp/events.txt"
files --param input=events.txt --param filter=shop.not_mate --param transform=shop.upper \
    --param 'fields={"key":"id","name":"name"}' --param 'sink={"path":"events.jsonl"}' \
    --param errors=events-rejected.jsonl >"$tmp/result.json"
expect_out "$tmp/events.jsonl" '{"key":1,"name":"TEA"}
{"key":3,"name":"KAVA"}'
report failed 1; report excluded 1
grep -q '"line":3' "$tmp/events-rejected.jsonl" || die "the line that is not JSON"
files --param input=events.txt --param format=text --param 'sink={"path":"lines.jsonl"}' >"$tmp/result.json"
report emitted 4
grep -q '{"line":"not json"}' "$tmp/lines.jsonl" || die "format=text: $(cat "$tmp/lines.jsonl")"

echo "== a JSON document (array) and one object; CSV output"
printf '[\n  {"id": 1, "v": "a"},\n  {"id": 2, "v": "b"}\n]\n' >"$tmp/doc.data"
files --param input=doc.data --param 'sink={"path":"doc.csv"}' >/dev/null
expect_out "$tmp/doc.csv" 'id,v
1,a
2,b'
printf '{\n  "id": 7,\n  "tags": ["x"]\n}\n' >"$tmp/one.json"
files --param input=one.json --param 'sink={"path":"one.jsonl"}' >/dev/null
expect_out "$tmp/one.jsonl" '{"id":7,"tags":["x"]}'

echo "== XML: attributes, nested elements, lists, a malformed element to errors"
cat >"$tmp/catalog.xml" <<'EOF'
<?xml version="1.0"?>
<catalog>
  <!-- <product> in a comment is not a record -->
  <products>
    <product sku="T1" currency="EUR"><name>Tea</name><price>4.5</price>
      <supplier country="CN"><name>Leaf &amp; Co</name></supplier>
      <tag>green</tag><tag>hot</tag>
    </product>
    <product sku="X2"><name>Broken</price></product>
    <product sku="M3"><name><![CDATA[Mate <b>]]></name><price unit="kg">7</price></product>
  </products>
</catalog>
EOF
files --param input=catalog.xml --param element=product --param 'sink={"path":"catalog.jsonl"}' \
    --param errors=xml-rejected.jsonl >"$tmp/result.json"
expect_out "$tmp/catalog.jsonl" '{"sku":"T1","currency":"EUR","name":"Tea","price":"4.5","supplier":{"country":"CN","name":"Leaf & Co"},"tag":["green","hot"]}
{"sku":"M3","name":"Mate <b>","price":{"unit":"kg","text":"7"}}'
report total 3; report failed 1
grep -q '"name":"InvalidXml"' "$tmp/xml-rejected.jsonl" || die "InvalidXml: $(cat "$tmp/xml-rejected.jsonl")"
grep -q '"line":9' "$tmp/xml-rejected.jsonl" || die "the malformed element's line"
# A path, and a field mapping into nested output.
files --param input=catalog.xml --param element=products/product \
    --param 'fields={"sku":"sku","supplier.country":"supplier.country"}' --param 'sink={"path":"mapped.jsonl"}' >/dev/null
expect_out "$tmp/mapped.jsonl" '{"sku":"T1","supplier":{"country":"CN"}}
{"sku":"M3"}'

echo "== text and log lines: line_pattern splits them; a line that does not match is rejected"
printf '10.0.0.1 GET /a 200\n10.0.0.2 GET /b 404\nnoise\n10.0.0.3 POST /c 500\n' >"$tmp/access.log"
files --param input=access.log --param 'line_pattern=^(%S+) (%u+) (%S+) (%d+)$' \
    --param 'line_fields=["ip","method","path","status"]' --param 'where=tonumber(data.status) >= 400' \
    --param 'fields={"path":"path","status":"status"}' --param 'sink={"path":"problems.jsonl"}' \
    --param errors=log-rejected.jsonl >"$tmp/result.json"
expect_out "$tmp/problems.jsonl" '{"path":"/b","status":"404"}
{"path":"/c","status":"500"}'
grep -q 'does not match line_pattern: noise' "$tmp/log-rejected.jsonl" || die "the noise line"

echo "== mode batch: the transform sees batch_size records; the sink gets them one by one"
files --param input=orders.dat --param mode=batch --param batch_size=2 --param transform=shop.count \
    --param where='data.qty > 0' --param 'sink={"path":"batched.jsonl"}' --param errors=batch-rejected.jsonl \
    >"$tmp/result.json"
# Batches: [1, 2] (2 filtered out), then the bad row alone, then [4].
expect_out "$tmp/batched.jsonl" '{"id":1,"name":"tea","qty":2,"price":4.5}
{"name":"batch of 1"}
{"id":4,"name":"rooibos","qty":3,"price":5}
{"name":"batch of 1"}'
report total 3; report failed 1
grep -q 'the row has 3 fields' "$tmp/batch-rejected.jsonl" || die "batch: the bad row"

echo "== mode whole: one record holds the file"
printf 'id,qty\n1,2\n2,5\n' >"$tmp/small.csv"
files --param input=small.csv --param mode=whole --param transform=shop.summary \
    --param 'sink={"path":"whole.jsonl"}' >"$tmp/result.json"
expect_out "$tmp/whole.jsonl" '{"file":"csv","records":2,"qty":7}'
report total 1; report emitted 1
files --param input=orders.dat --param mode=whole --param 'sink={"path":"whole-bad.jsonl"}' \
    --param errors=whole-rejected.jsonl >"$tmp/result.json"
report failed 1
grep -q 'line 4: the row has 3 fields' "$tmp/whole-rejected.jsonl" || die "whole: $(cat "$tmp/whole-rejected.jsonl")"

echo "== bad params are load errors (exit 2)"
set +e
files --param input=orders.dat --param mode=fast >/dev/null 2>"$tmp/err"
[[ $? == 2 ]] || die "mode=fast: exit status"
grep -q "unknown files mode 'fast'" "$tmp/err" || die "mode=fast: $(cat "$tmp/err")"
files --param input=orders.dat --param format=yaml >/dev/null 2>"$tmp/err"
[[ $? == 2 ]] || die "format=yaml: exit status"
grep -q "'format' must be auto, jsonl, json, csv, xml or text" "$tmp/err" || die "format=yaml: $(cat "$tmp/err")"
files --param input=orders.dat --param 'sink={"path":"out.xml"}' >/dev/null 2>"$tmp/err"
[[ $? == 2 ]] || die "an XML sink: exit status"
grep -q "XML output is not implemented" "$tmp/err" || die "xml sink: $(cat "$tmp/err")"
set -e

echo "== statenet run -i: XML by extension, a .dat CSV sniffed, --input-format auto on a .txt"
cat >"$tmp/pass.toml" <<'EOF'
name = "pass"
[networks.main.states.s]
start = true
end = true
EOF
set +e
(cd "$tmp" && "$statenet" run pass.toml -i catalog.xml --xml-element product -o run-xml.jsonl --errors run-xml-errors.jsonl 2>/dev/null)
[[ $? == 1 ]] || die "run -i catalog.xml: exit status (one record failed)"
set -e
[[ $(wc -l <"$tmp/run-xml.jsonl") == 2 ]] || die "run -i catalog.xml: $(cat "$tmp/run-xml.jsonl")"
grep -q InvalidXml "$tmp/run-xml-errors.jsonl" || die "run -i catalog.xml: the malformed element"
(cd "$tmp" && "$statenet" run pass.toml -i doc.data -o run-dat.jsonl 2>/dev/null)
expect_out "$tmp/run-dat.jsonl" '{"id":1,"v":"a"}
{"id":2,"v":"b"}'
(cd "$tmp" && "$statenet" run pass.toml -i events.txt --input-format auto -o run-txt.jsonl 2>/dev/null) && die "not json passed"
grep -q '{"id":3,"name":"kava"}' "$tmp/run-txt.jsonl" || die "--input-format auto: $(cat "$tmp/run-txt.jsonl")"

echo "== statenet new files: the project runs on its sample"
"$statenet" new files "$tmp/proj" >/dev/null
(cd "$tmp/proj" && "$statenet" run files.toml --data '{}' >result.json 2>stderr) ||
    { cat "$tmp/proj/stderr"; die "the new project did not run"; }
grep -q '"emitted": 2' "$tmp/proj/result.json" || die "new project: $(cat "$tmp/proj/result.json")"
grep -q '"gross":5.4' "$tmp/proj/catalog.jsonl" || die "new project output: $(cat "$tmp/proj/catalog.jsonl")"
grep -q 'the row has 3 fields' "$tmp/proj/rejected.jsonl" || die "new project: the rejected row"

echo "== examples/files"
mkdir -p "$tmp/example" && cp "$root"/examples/files/* "$tmp/example"
ex() { (cd "$tmp/example" && "$statenet" run "$1" --data '{}' >"$1.result" 2>&1) || die "examples/files/$1: $(cat "$tmp/example/$1.result")"; }
ex orders.toml
[[ $(sqlite3 "$tmp/example/orders.db" "SELECT group_concat(id || ':' || total, ',') FROM orders") == "1:9,4:13.5" ]] ||
    die "examples orders: $(sqlite3 "$tmp/example/orders.db" 'SELECT * FROM orders')"
grep -q 'the row has 4 fields' "$tmp/example/orders-rejected.jsonl" || die "examples orders: the rejected row"
ex catalog.toml
expect_out "$tmp/example/catalog.csv" "$(cat "$root/examples/files/expected-catalog.csv")"
grep -q InvalidXml "$tmp/example/catalog-rejected.jsonl" || die "examples catalog: the malformed product"
ex access.toml
expect_out "$tmp/example/problems.jsonl" "$(cat "$root/examples/files/expected-problems.jsonl")"
grep -q 'garbage line' "$tmp/example/access-rejected.jsonl" || die "examples access: the garbage line"
ex readings.toml
expect_out "$tmp/example/summary.jsonl" '{"file":"readings.json","readings":3,"mean":21,"low":19.5,"high":22.5}'
echo "OK"
