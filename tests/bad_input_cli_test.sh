#!/usr/bin/env bash
# End-to-end tests of bad input that must fail only its record or its file, never the
# run or the process: records nested too deeply, a workflow nested too deeply, a huge
# CSV header, numbers out of range in a workflow.
# Usage: tests/bad_input_cli_test.sh STATENET_BINARY SOURCE_ROOT
set -euo pipefail

statenet=$1
wf=$2/tests/workflows/bad_input
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
source "$(dirname "$0")/cli_lib.sh"

# repeat TEXT N: TEXT N times.
repeat() { printf "%$2s" '' | sed "s/ /$1/g"; }

echo "== a record nested 600 levels fails alone, whatever the output"
deep="{\"id\":2,\"line\":\"two\",\"x\":$(repeat '[' 600)$(repeat ']' 600)}"
printf '{"id":1,"line":"one"}\n%s\n{"id":3,"line":"three"}\n' "$deep" >"$tmp/deep.jsonl"
deep_error='{"line":2,"error":{"name":"InvalidJson","message":"invalid JSON at byte 152: nested deeper than 128 levels","state":null},"raw":'
for out in out.jsonl out.csv out.txt out.json; do
    rm -f "$tmp/errors.jsonl"
    expect_exit 1 "$statenet" run "$wf/passthrough.toml" -i "$tmp/deep.jsonl" -o "$tmp/$out" --errors "$tmp/errors.jsonl"
    expect_match "$tmp/err" "$(summary_re 3 2 0 1)"
    expect_contains "$tmp/errors.jsonl" "$deep_error"
    expect_contains "$tmp/$out" "one"
    expect_contains "$tmp/$out" "three"
done
expect_exit 1 "$statenet" run "$wf/passthrough.toml" -i "$tmp/deep.jsonl" -o "$tmp/out.db" --table t \
    --errors "$tmp/errors.jsonl"
expect_contains "$tmp/errors.jsonl" "$deep_error"
expect_file <(sqlite3 "$tmp/out.db" "SELECT id, line, seen FROM t ORDER BY id") '1|one|1
3|three|1'
for level in runs steps full; do
    expect_exit 1 "$statenet" run "$wf/passthrough.toml" -i "$tmp/deep.jsonl" -o "$tmp/h.jsonl" \
        --history "$tmp/history-$level.db" --history-level "$level" -j 2
    expect_line "$tmp/err" "statenet: record 2 failed: InvalidJson: invalid JSON at byte 152: nested deeper than 128 levels"
    expect_match "$tmp/err" "$(summary_re 3 2 0 1)"
    expect_file "$tmp/h.jsonl" '{"id":1,"line":"one","seen":true}
{"id":3,"line":"three","seen":true}'
done

echo "== the deepest record allowed goes through, read by Lua or not"
ok="{\"id\":1,\"x\":$(repeat '[' 127)1$(repeat ']' 127)}"
printf '%s\n' "$ok" >"$tmp/ok.jsonl"
for out in ok-out.jsonl ok-out.csv; do
    expect_exit 0 "$statenet" run "$wf/passthrough.toml" -i "$tmp/ok.jsonl" -o "$tmp/$out" --history "$tmp/ok.db" \
        --history-level full
    expect_match "$tmp/err" "$(summary_re 1 1 0 0)"
done

echo "== a workflow's dotted key 100,000 segments deep: a located error, not a crash"
{ printf 'name = "deep"\n[vars]\n'; seq 100000 | sed 's/.*/a/' | paste -sd.; cat "$wf/passthrough.toml"; } >"$tmp/dotted.toml"
sed -i 's/^\(a\..*\)$/\1 = 1/; /^name = "passthrough"/d' "$tmp/dotted.toml"
expect_exit 2 "$statenet" validate "$tmp/dotted.toml"
expect_line "$tmp/err" "$tmp/dotted.toml:3:1: error: nested deeper than 128 levels (tables, dotted-key segments, arrays and inline tables each count)"

echo "== a var given with --set nests at most 127 levels below ctx.vars"
expect_exit 0 "$statenet" run "$wf/passthrough.toml" --set "v=$(repeat '[' 127)$(repeat ']' 127)" --data '{}'
expect_exit 2 "$statenet" run "$wf/passthrough.toml" --set "v=$(repeat '[' 128)$(repeat ']' 128)" --data '{}'
expect_line "$tmp/err" "statenet: error: $wf/passthrough.toml: the value given for var 'v' is nested deeper than 127 levels"

echo "== a CSV header of 100,000 columns is read at once; a duplicate name among them is found"
seq -f 'c%g' 1 100000 | paste -sd, >"$tmp/wide.csv"
seq 1 100000 | paste -sd, >>"$tmp/wide.csv"
expect_exit 0 "$statenet" run "$wf/passthrough.toml" -i "$tmp/wide.csv" -o "$tmp/wide.jsonl"
expect_match "$tmp/err" "$(summary_re 1 1 0 0)"
expect_match "$tmp/wide.jsonl" '^\{"c1":1,"c2":2,.*"c100000":100000,"seen":true\}$'
{ seq -f 'c%g' 1 100000; echo c4711; } | paste -sd, >"$tmp/twice.csv"
expect_exit 2 "$statenet" run "$wf/passthrough.toml" -i "$tmp/twice.csv" -o "$tmp/twice.jsonl"
expect_line "$tmp/err" "statenet: error: '$tmp/twice.csv': CSV header: column 'c4711' appears twice"

cli_done
