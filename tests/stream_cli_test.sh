#!/usr/bin/env bash
# End-to-end tests of `statenet run` streams: formats, compression, SQLite, ordering,
# accounting, resume refusals and the progress line.
# Usage: tests/stream_cli_test.sh STATENET_BINARY SOURCE_ROOT
set -euo pipefail

statenet=$1
wf=$2/tests/workflows/cli
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
source "$(dirname "$0")/cli_lib.sh"

pipeline=$wf/pipeline.toml

echo "== CSV in: header, quoted fields, embedded newlines, typing, malformed rows"
printf 'id,amount,note,code\r\n1,10,"hello, ""world""","007"\r\n2,5,"two\nlines",12\n3,oops\n\n4,7,,true\n5,-1,x,y\n6,1,"open\n' >"$tmp/in.csv"
expect_exit 1 "$statenet" run "$pipeline" -i "$tmp/in.csv" -o "$tmp/out.jsonl" --errors "$tmp/errors.jsonl"
expect_file "$tmp/out.jsonl" '{"id":1,"amount":10,"note":"hello, \"world\"","code":"007","factor_type":"number","label":"default","scaled":20}
{"id":2,"amount":5,"note":"two\nlines","code":12,"factor_type":"number","label":"default","scaled":10}
{"id":4,"amount":7,"note":null,"code":true,"factor_type":"number","label":"default","scaled":14}'
expect_match "$tmp/err" "$(summary_re 6 3 0 3)"
expect_file "$tmp/errors.jsonl" '{"line":5,"error":{"name":"InvalidCsv","message":"the row has 2 fields, the header has 4","state":null},"raw":"3,oops"}
{"line":8,"error":{"name":"ValidationFailed","message":"amount must not be negative","state":"main/intake"},"record":{"id":5,"amount":-1,"note":"x","code":"y"}}
{"line":9,"error":{"name":"InvalidCsv","message":"the input ends inside a quoted field","state":null},"raw":"6,1,\"open"}'
printf 'id,,amount\n1,2,3\n' >"$tmp/noname.csv"
expect_exit 2 "$statenet" run "$pipeline" -i "$tmp/noname.csv"
expect_line "$tmp/err" "statenet: error: '$tmp/noname.csv': CSV header: column 2 has no name"

echo "== CSV: a spreadsheet's byte order mark; other delimiters"
printf '\xef\xbb\xbfid;amount;note\r\n1;10;"a;b"\r\n' >"$tmp/excel.csv"
expect_exit 0 "$statenet" run "$pipeline" -i "$tmp/excel.csv" --csv-delimiter ';' -o "$tmp/excel.out.csv"
expect_file "$tmp/excel.out.csv" 'id;amount;note;factor_type;label;scaled
1;10;"a;b";number;default;20'
printf 'id\tamount\n1\t3\n' >"$tmp/in.tsv"
expect_exit 0 "$statenet" run "$pipeline" -i "$tmp/in.tsv" --format csv --csv-delimiter tab -o -
expect_line "$tmp/out" 'id	amount	factor_type	label	scaled'
expect_exit 2 "$statenet" run "$pipeline" -i "$tmp/in.tsv" --format csv --csv-delimiter ab
expect_line "$tmp/err" "statenet: error: --csv-delimiter must be one character other than a quote or a line break (or tab), not 'ab'"

echo "== Breadth-first branches all reach the output, primary first (emit = false ones do not)"
printf '{"id":1}\n{"id":2}\n' >"$tmp/two.jsonl"
expect_exit 0 "$statenet" run "$wf/branches.toml" -i "$tmp/two.jsonl" -o "$tmp/branches.jsonl" -j 2
expect_file "$tmp/branches.jsonl" '{"id":1,"via":"a"}
{"id":1,"via":"b"}
{"id":2,"via":"a"}
{"id":2,"via":"b"}'
expect_match "$tmp/err" "$(summary_re 2 2 0 0)"
expect_exit 0 "$statenet" run "$wf/branches.toml" -i "$tmp/two.jsonl" -o "$tmp/branches.csv" -q
expect_file "$tmp/branches.csv" 'id,via
1,a
1,b
2,a
2,b'
# [branches] joins them back into one record each: one output line per input line.
{ cat "$wf/branches.toml"; printf '\n[branches]\njoin = "all"\nmerge = "namespaced"\n'; } >"$tmp/joined.toml"
sed -i 's/^name = "branches"/name = "joined"/' "$tmp/joined.toml"
expect_exit 0 "$statenet" run "$tmp/joined.toml" -i "$tmp/two.jsonl" -o "$tmp/joined.jsonl" -j 2
expect_file "$tmp/joined.jsonl" '{"id":1,"a":{"id":1,"via":"a"},"b":{"id":1,"via":"b"},"c":{"id":1,"via":"c"}}
{"id":2,"a":{"id":2,"via":"a"},"b":{"id":2,"via":"b"},"c":{"id":2,"via":"c"}}'
expect_match "$tmp/err" "$(summary_re 2 2 0 0)"

echo "== CSV out: header from the first record, quoting, fields outside the header fail"
printf '{"id": 1, "amount": 10, "note": "a,b"}\n{"id": 2, "amount": 500}\n{"id": 3, "amount": 1, "note": "12"}\n' >"$tmp/for.csv.jsonl"
expect_exit 1 "$statenet" run "$pipeline" -i "$tmp/for.csv.jsonl" -o "$tmp/out.csv"
expect_file "$tmp/out.csv" 'id,amount,note,factor_type,label,scaled
1,10,"a,b",number,default,20
3,1,"12",number,default,2'
expect_line "$tmp/err" "statenet: record 2 failed: CsvError: field 'reviewed' is not a column of the CSV output (the first record's fields are)"
expect_match "$tmp/err" "$(summary_re 3 2 0 1)"
# What the CSV sink wrote reads back as the same records.
expect_exit 0 "$statenet" run "$wf/scribble.toml" --mode copy -i "$tmp/out.csv" -o "$tmp/back.jsonl" -q
expect_line "$tmp/back.jsonl" '{"id":1,"amount":10,"note":"a,b","factor_type":"number","label":"default","scaled":20}'
expect_line "$tmp/back.jsonl" '{"id":3,"amount":1,"note":"12","factor_type":"number","label":"default","scaled":2}'

echo "== JSON array in and out"
printf '[{"id": 1, "amount": 2},\n {"id": 2,\n  "amount": 3}, 5, {"id": 3 oops},\n{"id": 4, "amount": 1, "s": "a]b,c"}]\n' >"$tmp/in.json"
expect_exit 1 "$statenet" run "$pipeline" -i "$tmp/in.json" -o "$tmp/out.json" --errors "$tmp/json-errors.jsonl"
expect_file "$tmp/out.json" '[
{"id":1,"amount":2,"factor_type":"number","label":"default","scaled":4},
{"id":2,"amount":3,"factor_type":"number","label":"default","scaled":6},
{"id":4,"amount":1,"s":"a]b,c","factor_type":"number","label":"default","scaled":2}
]'
expect_match "$tmp/err" "$(summary_re 5 3 0 2)"
expect_match "$tmp/json-errors.jsonl" '^\{"line":3,"error":\{"name":"InvalidRecord",.*"record":5\}$'
expect_match "$tmp/json-errors.jsonl" '^\{"line":3,"error":\{"name":"InvalidJson",.*"raw":"\{\\"id\\": 3 oops\}"\}$'
# The output is itself a JSON array source.
expect_exit 0 "$statenet" run "$wf/scribble.toml" -i "$tmp/out.json" -o "$tmp/again.jsonl" -q
checks=$((checks + 1))
[[ $(wc -l <"$tmp/again.jsonl") -eq 3 ]] || fail "the JSON array output did not read back as 3 records"
input=/dev/null expect_exit 0 "$statenet" run "$pipeline" --format json -o "$tmp/empty.json"
expect_file "$tmp/empty.json" '[]'
# A document that is one object is one record; anything else that is not an array is refused.
printf '{\n  "id": 1,\n  "amount": 5\n}\n' >"$tmp/object.json"
expect_exit 0 "$statenet" run "$pipeline" -i "$tmp/object.json" -o "$tmp/object.out"
[[ $(wc -l <"$tmp/object.out") -eq 1 ]] || fail "the one-object JSON document is not one record"
printf '"id"' >"$tmp/string.json"
expect_exit 2 "$statenet" run "$pipeline" -i "$tmp/string.json"
expect_line "$tmp/err" "statenet: error: '$tmp/string.json':1: found '\"' where '[' (a JSON array of records) or '{' (one record) was expected"
printf '[{"id": 1, "amount": 1},' >"$tmp/cut.json"
expect_exit 2 "$statenet" run "$pipeline" -i "$tmp/cut.json" -o "$tmp/cut.out"
expect_line "$tmp/err" "statenet: error: '$tmp/cut.json': the input ends inside the JSON array"

echo "== text lines"
printf 'alpha\n\nbeta gamma\n' >"$tmp/in.txt"
expect_exit 0 "$statenet" run "$wf/scribble.toml" -i "$tmp/in.txt" -o "$tmp/out.txt"
expect_file "$tmp/out.txt" 'alpha

beta gamma'
expect_exit 0 "$statenet" run "$wf/scribble.toml" -i "$tmp/in.txt" --text-field message -o "$tmp/text.jsonl" -q
expect_file "$tmp/text.jsonl" '{"message":"alpha"}
{"message":""}
{"message":"beta gamma"}'
expect_exit 1 "$statenet" run "$wf/scribble.toml" -i "$tmp/text.jsonl" --output-format text --text-field other -q
expect_line "$tmp/err" "statenet: record 1 failed: MissingField: the record has no field 'other' to write as text"
expect_exit 0 "$statenet" run "$wf/scribble.toml" --input-format text -i "$tmp/in.csv" -o "$tmp/csv-as-text.jsonl" -q
expect_line "$tmp/csv-as-text.jsonl" '{"line":"3,oops"}'

echo "== gzip and zstd by extension"
seq 1 3000 | awk '{ print "{\"id\": " $1 ", \"amount\": " $1 % 90 "}" }' >"$tmp/plain.jsonl"
expect_exit 0 "$statenet" run "$pipeline" -i "$tmp/plain.jsonl" -o "$tmp/plain.out" -q
expect_exit 0 "$statenet" run "$pipeline" -i "$tmp/plain.jsonl" -o "$tmp/out.jsonl.gz" -q
checks=$((checks + 1))
zcat "$tmp/out.jsonl.gz" | cmp -s - "$tmp/plain.out" || fail "zcat of the gzip output differs from the plain output"
expect_exit 0 "$statenet" run "$pipeline" -i "$tmp/plain.jsonl" -o "$tmp/out.jsonl.zst" -q
checks=$((checks + 1))
zstdcat "$tmp/out.jsonl.zst" | cmp -s - "$tmp/plain.out" || fail "zstdcat of the zstd output differs from the plain output"
# Reading: gzip with two members (as `cat a.gz b.gz` makes), zstd, and CSV inside gzip.
head -n 1000 "$tmp/plain.jsonl" | gzip >"$tmp/in.jsonl.gz"
tail -n +1001 "$tmp/plain.jsonl" | gzip >>"$tmp/in.jsonl.gz"
expect_exit 0 "$statenet" run "$pipeline" -i "$tmp/in.jsonl.gz" -o "$tmp/gz.out" -q
checks=$((checks + 1))
cmp -s "$tmp/gz.out" "$tmp/plain.out" || fail "the two-member gzip input gave other output"
zstd -q -c "$tmp/plain.jsonl" >"$tmp/in.jsonl.zst"
expect_exit 0 "$statenet" run "$pipeline" -i "$tmp/in.jsonl.zst" -o "$tmp/zst.out" -q
checks=$((checks + 1))
cmp -s "$tmp/zst.out" "$tmp/plain.out" || fail "the zstd input gave other output"
gzip -c "$tmp/in.csv" >"$tmp/in.csv.gz"
expect_exit 1 "$statenet" run "$pipeline" -i "$tmp/in.csv.gz" -o "$tmp/csvgz.jsonl" -q
checks=$((checks + 1))
cmp -s "$tmp/csvgz.jsonl" "$tmp/out.jsonl" || fail "CSV inside gzip gave other output than the plain CSV"
head -c 200 "$tmp/in.jsonl.gz" >"$tmp/cut.jsonl.gz"
expect_exit 2 "$statenet" run "$pipeline" -i "$tmp/cut.jsonl.gz" -o "$tmp/cut.out" -q
expect_line "$tmp/err" "statenet: error: '$tmp/cut.jsonl.gz': truncated gzip data"
printf 'not zstd at all' >"$tmp/bad.jsonl.zst"
expect_exit 2 "$statenet" run "$pipeline" -i "$tmp/bad.jsonl.zst" -q
expect_match "$tmp/err" "^statenet: error: '$tmp/bad.jsonl.zst': invalid zstd data"
printf 'not gzip at all' >"$tmp/bad.jsonl.gz"
expect_exit 2 "$statenet" run "$pipeline" -i "$tmp/bad.jsonl.gz" -q
expect_match "$tmp/err" "^statenet: error: '$tmp/bad.jsonl.gz': invalid gzip data"

echo "== SQLite sink (insert, upsert by key) and source (query)"
expect_exit 1 "$statenet" run "$pipeline" -i "$wf/records.jsonl" -o "$tmp/out.db" --table orders -q
checks=$((checks + 1))
[[ $(sqlite3 "$tmp/out.db" 'SELECT id, scaled, reviewed FROM orders ORDER BY rowid' | tr '\n' ' ') == "1|20| 2|1000|1 6|40| " ]] ||
    fail "the orders table does not hold the emitted records"
expect_exit 1 "$statenet" run "$pipeline" -i "$wf/records.jsonl" -o "$tmp/out.db" --table orders -q
checks=$((checks + 1))
[[ $(sqlite3 "$tmp/out.db" 'SELECT count(*) FROM orders') == 6 ]] || fail "a second insert run should append 3 more rows"
expect_exit 1 "$statenet" run "$pipeline" -i "$wf/records.jsonl" -o "$tmp/keyed.db" --table orders --key id -q
expect_exit 1 "$statenet" run "$pipeline" -i "$wf/records.jsonl" -o "$tmp/keyed.db" --table orders --key id --set label=again -q
checks=$((checks + 1))
[[ $(sqlite3 "$tmp/keyed.db" 'SELECT id, label FROM orders ORDER BY id' | tr '\n' ' ') == "1|again 2|again 6|again " ]] ||
    fail "an upsert run should update the rows with the same key"
expect_exit 0 "$statenet" run "$wf/scribble.toml" -i "$tmp/keyed.db" --query 'SELECT id, amount FROM orders WHERE id > 1 ORDER BY id' -o "$tmp/rows.jsonl" -q
expect_file "$tmp/rows.jsonl" '{"id":2,"amount":500}
{"id":6,"amount":20}'
expect_exit 2 "$statenet" run "$pipeline" -i "$tmp/keyed.db" --query 'SELECT nope FROM orders'
expect_match "$tmp/err" "^statenet: error: '$tmp/keyed.db': query: no such column: nope"
expect_exit 2 "$statenet" run "$pipeline" -i "$tmp/missing.db" --query 'SELECT 1'
expect_line "$tmp/err" "statenet: error: cannot open input '$tmp/missing.db': no such database"
expect_exit 2 "$statenet" run "$pipeline" -i "$wf/records.jsonl" -o "$tmp/x.db" --table 'bad name'
expect_line "$tmp/err" "statenet: error: invalid SQLite table name 'bad name'"
expect_exit 2 "$statenet" run "$pipeline" -i "$wf/records.jsonl" --key id
expect_line "$tmp/err" "statenet: error: --key needs --table (it names the SQLite table's key column)"
printf '{"id": 1, "amount": 1, "bad field": 2}\n{"amount": 3}\n' >"$tmp/odd.jsonl"
expect_exit 1 "$statenet" run "$wf/scribble.toml" -i "$tmp/odd.jsonl" -o "$tmp/odd.db" --table t --key id -q
expect_line "$tmp/err" "statenet: record 1 failed: SinkError: field 'bad field' cannot be a SQLite column name"
expect_line "$tmp/err" "statenet: record 2 failed: MissingField: the record has no key field 'id' for table 't'"

echo "== --unordered: the same records, every one accounted for"
expect_exit 0 "$statenet" run "$pipeline" -i "$tmp/plain.jsonl" -o "$tmp/unordered.out" -j 3 --unordered
expect_match "$tmp/err" "$(summary_re 3000 3000 0 0)"
checks=$((checks + 1))
cmp -s <(sort "$tmp/unordered.out") <(sort "$tmp/plain.out") || fail "--unordered wrote other records than the ordered run"

echo "== --resume"
expect_exit 0 "$statenet" run "$pipeline" -i "$tmp/plain.jsonl" -o "$tmp/resumed.out" --resume -j 2
expect_match "$tmp/err" "$(summary_re 3000 3000 0 0)"
expect_contains "$tmp/resumed.out.checkpoint" '"done":true'
expect_exit 0 "$statenet" run "$pipeline" -i "$tmp/plain.jsonl" -o "$tmp/resumed.out" --resume
expect_match "$tmp/err" "$(summary_re 3000 3000 0 0)"
expect_line "$tmp/err" "statenet: resumed after 3000 records committed by an earlier run"
checks=$((checks + 1))
cmp -s "$tmp/resumed.out" "$tmp/plain.out" || fail "a resume of a finished run changed its output"
expect_exit 2 "$statenet" run "$pipeline" -i "$wf/records.jsonl" -o "$tmp/resumed.out" --resume
expect_line "$tmp/err" "statenet: error: cannot resume: the checkpoint in '$tmp/resumed.out.checkpoint' is for input '$tmp/plain.jsonl', not '$wf/records.jsonl'"
expect_exit 2 "$statenet" run "$pipeline" -i "$wf/records.jsonl" --resume
expect_line "$tmp/err" "statenet: error: cannot resume into standard output (use -o FILE)"
expect_exit 2 "$statenet" run "$pipeline" -i "$wf/records.jsonl" -o "$tmp/u.out" --resume --unordered
expect_match "$tmp/err" '^statenet: error: --unordered excludes --resume'
expect_exit 2 "$statenet" run "$pipeline" -i "$wf/records.jsonl" -o "$tmp/u.out" --checkpoint "$tmp/c"
expect_match "$tmp/err" '^statenet: error: --checkpoint requires --resume'
printf 'garbage' >"$tmp/garbage.checkpoint"
expect_exit 2 "$statenet" run "$pipeline" -i "$wf/records.jsonl" -o "$tmp/g.out" --resume --checkpoint "$tmp/garbage.checkpoint"
expect_match "$tmp/err" "^statenet: error: $tmp/garbage.checkpoint: not a statenet checkpoint"

# stdin resumes too: the committed prefix is read again and skipped.
head -n 1000 "$tmp/plain.jsonl" >"$tmp/first.jsonl"
input="$tmp/first.jsonl" expect_exit 0 "$statenet" run "$pipeline" -o "$tmp/stdin.out" --resume --batch-size 100 -q
sed -i 's/"done":true/"done":false/' "$tmp/stdin.out.checkpoint"
input="$tmp/plain.jsonl" expect_exit 0 "$statenet" run "$pipeline" -o "$tmp/stdin.out" --resume
expect_line "$tmp/err" "statenet: resumed after 1000 records committed by an earlier run"
checks=$((checks + 1))
cmp -s "$tmp/stdin.out" "$tmp/plain.out" || fail "a resumed stdin run differs from an uninterrupted one"
sed -i 's/"done":true/"done":false/' "$tmp/stdin.out.checkpoint"
input="$tmp/first.jsonl" expect_exit 2 "$statenet" run "$pipeline" -o "$tmp/stdin.out" --resume
expect_line "$tmp/err" "statenet: error: standard input is shorter than the checkpoint's position"

echo "== progress line: on a terminal only"
awk 'BEGIN { for (i = 1; i <= 6000; i++) print "{\"id\": " i ", \"amount\": 1}" }' >"$tmp/slow.jsonl"
# script(1) gives the command a terminal; its output file gets what the terminal showed.
expect_exit 0 script -qec "'$statenet' run '$wf/slow.toml' -i '$tmp/slow.jsonl' -o '$tmp/slow.out'" "$tmp/tty.log"
expect_match "$tmp/tty.log" 'statenet: [0-9]+ records, [0-9]+ records/s, [0-9.]+%'
expect_contains "$tmp/tty.log" 'statenet: 6000 records: 6000 emitted'
expect_exit 0 script -qec "'$statenet' run '$wf/slow.toml' -i '$tmp/slow.jsonl' -o '$tmp/slow.out' -q" "$tmp/tty-quiet.log"
expect_absent "$tmp/tty-quiet.log" 'records'
# TERM=dumb: the same line, redrawn without escape sequences.
grep -q $'\e\[K' "$tmp/tty.log" || fail "the progress line on a terminal has no erase sequence"
expect_exit 0 env TERM=dumb script -qec "'$statenet' run '$wf/slow.toml' -i '$tmp/slow.jsonl' -o '$tmp/slow.out'" "$tmp/tty-dumb.log"
expect_match "$tmp/tty-dumb.log" 'statenet: [0-9]+ records, [0-9]+ records/s, [0-9.]+%'
if grep -q $'\e' "$tmp/tty-dumb.log"; then fail "TERM=dumb: the progress line has escape sequences"; fi
# Not a terminal: only the summary.
expect_exit 0 "$statenet" run "$wf/slow.toml" -i "$tmp/slow.jsonl" -o "$tmp/slow.out"
expect_file "$tmp/err" "$(grep -E "$(summary_re 6000 6000 0 0)" "$tmp/err")"

echo "== help"
expect_exit 0 "$statenet" run --help
for option in --format --text-field --query --table --key --unordered --resume --checkpoint --batch-size; do
    expect_contains "$tmp/out" "$option"
done

cli_done
