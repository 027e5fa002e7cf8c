#!/usr/bin/env bash
# End-to-end tests of the statenet command on the workflows in tests/workflows/cli/.
# Usage: tests/cli_test.sh STATENET_BINARY SOURCE_ROOT
set -euo pipefail

statenet=$1
wf=$2/tests/workflows/cli
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
source "$(dirname "$0")/cli_lib.sh"


echo "== run --data"
expect_exit 0 "$statenet" run "$wf/pipeline.toml" --data '{"id": 1, "amount": 10}'
expect_contains "$tmp/out" '"ok": true'
expect_contains "$tmp/out" '"final_state": "main/accepted"'
expect_contains "$tmp/out" '"label": "default"'
expect_contains "$tmp/out" '"scaled": 20'

expect_exit 1 "$statenet" run "$wf/pipeline.toml" --data '{"id": 3, "amount": -5}'
expect_contains "$tmp/out" '"ok": false'
expect_contains "$tmp/out" '"name": "ValidationFailed"'
expect_contains "$tmp/out" '"message": "amount must not be negative"'
expect_contains "$tmp/out" '"state": "main/intake"'

expect_exit 0 "$statenet" run "$wf/pipeline.toml" --data '{"id": 2, "amount": 500}' -o "$tmp/one.json"
expect_contains "$tmp/one.json" '"reviewed": true'
expect_contains "$tmp/one.json" '"review/check"'

expect_exit 2 "$statenet" run "$wf/pipeline.toml" --data '{"id": 1,'
expect_match "$tmp/err" '^statenet: error: --data: invalid JSON'
expect_exit 2 "$statenet" run "$wf/pipeline.toml" --data '42'
expect_line "$tmp/err" 'statenet: error: --data must be a JSON object (got integer)'
expect_exit 2 "$statenet" run "$wf/pipeline.toml" --data '{}' -i "$wf/records.jsonl"

echo "== map states"
printf '%s\n' '{"id": 1, "tax": 0.5, "lines": [{"qty": 2, "price": 10}, {"qty": 0, "price": 3}, {"qty": 1, "price": 4}]}' \
    '{"id": 2, "tax": 0, "lines": [{"qty": 0, "price": 1}, {"qty": 0, "price": 1}]}' >"$tmp/orders.jsonl"
expect_exit 1 "$statenet" run "$wf/orders_map.toml" -i "$tmp/orders.jsonl" -o "$tmp/orders_out.jsonl" -q
expect_line "$tmp/orders_out.jsonl" '{"id":1,"tax":0.5,"lines":[{"qty": 2, "price": 10}, {"qty": 0, "price": 3}, {"qty": 1, "price": 4}],"failures":[{"error":"ValidationFailed","index":1,"message":"qty must be positive"}],"line_totals":[{"total":30},null,{"total":6}]}'
expect_contains "$tmp/err" 'record 2 failed: MapFailed: 2 of the first 2 items failed, 1 tolerated; first: item 0: ValidationFailed: qty must be positive'
expect_exit 0 "$statenet" graph "$wf/orders_map.toml"
expect_line "$tmp/out" '  "main/lines" -> "line/price" [label="map", style=dashed];'
expect_exit 2 "$statenet" validate "$wf/orders_map_bad.toml"
expect_contains "$tmp/err" "orders_map_bad.toml:7:19: error: unknown network 'lin' in map (did you mean 'line'?)"
expect_contains "$tmp/err" "orders_map_bad.toml:7:90: error: 'tolerated_failures' must be a count (an integer >= 0) or a percentage (\"10%\")"
expect_contains "$tmp/err" "orders_map_bad.toml:7:35: error: unknown item reader type 'xml'"

echo "== run JSONL: output order, exclusion, failures, summary"
expected_out='{"id":1,"amount":10,"factor_type":"number","label":"default","scaled":20}
{"id":2,"amount":500,"factor_type":"number","label":"default","reviewed":true,"scaled":1000}
{"id":6,"amount":20,"factor_type":"number","label":"default","scaled":40}'

expect_exit 1 "$statenet" run "$wf/pipeline.toml" -i "$wf/records.jsonl" -o "$tmp/out.jsonl" --errors "$tmp/errors.jsonl"
expect_file "$tmp/out.jsonl" "$expected_out"
expect_match "$tmp/err" "$(summary_re 7 3 1 3)"
checks=$((checks + 1))
[[ $(wc -l <"$tmp/errors.jsonl") -eq 3 ]] || fail "errors.jsonl should have 3 lines"
# The failed record as it was read: a JSON line's own text.
expect_line "$tmp/errors.jsonl" '{"line":4,"error":{"name":"ValidationFailed","message":"amount must not be negative","state":"main/intake"},"record":{"id": 3, "amount": -5}}'
expect_match "$tmp/errors.jsonl" '^\{"line":5,"error":\{"name":"InvalidJson","message":"invalid JSON[^"]*","state":null\},"raw":"\{\\"id\\": 4, \\"amount\\": oops"\}$'
expect_line "$tmp/errors.jsonl" '{"line":8,"error":{"name":"InvalidRecord","message":"a record must be a JSON object (got integer)","state":null},"record":42}'
expect_absent "$tmp/err" 'record 4 failed'

# stdin to stdout, failures as stderr lines.
input="$wf/records.jsonl" expect_exit 1 "$statenet" run "$wf/pipeline.toml"
expect_file "$tmp/out" "$expected_out"
expect_line "$tmp/err" 'statenet: record 4 failed: ValidationFailed: amount must not be negative'
expect_match "$tmp/err" '^statenet: record 5 failed: InvalidJson: invalid JSON'
expect_line "$tmp/err" 'statenet: record 8 failed: InvalidRecord: a record must be a JSON object (got integer)'
expect_match "$tmp/err" "$(summary_re 7 3 1 3)"

input="$wf/records.jsonl" expect_exit 1 "$statenet" run "$wf/pipeline.toml" -i - -o - --quiet --errors "$tmp/errors2.jsonl"
expect_file "$tmp/out" "$expected_out"
expect_file "$tmp/err" ""

# A stream of excluded records only: nothing written, exit 0.
printf '{"id": 7, "amount": 1, "draft": true}\n{"id": 8, "amount": 2, "draft": true}\n' >"$tmp/drafts.jsonl"
expect_exit 0 "$statenet" run "$wf/pipeline.toml" -i "$tmp/drafts.jsonl"
expect_file "$tmp/out" ""
expect_match "$tmp/err" "$(summary_re 2 0 2 0)"

# CRLF line ends, whitespace-only lines and a last line without a newline.
printf '{"id": 1, "amount": 1}\r\n  \r\n{"id": 2, "amount": 2}' >"$tmp/crlf.jsonl"
expect_exit 0 "$statenet" run "$wf/pipeline.toml" -i "$tmp/crlf.jsonl" -q
expect_file "$tmp/out" '{"id":1,"amount":1,"factor_type":"number","label":"default","scaled":2}
{"id":2,"amount":2,"factor_type":"number","label":"default","scaled":4}'

# Many records and a line longer than the read buffer keep their order and count.
big=$(head -c 1500000 /dev/zero | tr '\0' x)
{
    for i in $(seq 1 3000); do echo "{\"id\": $i, \"amount\": $i}"; done
    echo "{\"id\": 3001, \"amount\": 1, \"blob\": \"$big\"}"
    for i in $(seq 3002 6000); do echo "{\"id\": $i, \"amount\": $((i % 50))}"; done
} >"$tmp/many.jsonl"
expect_exit 0 "$statenet" run "$wf/pipeline.toml" -i "$tmp/many.jsonl" -o "$tmp/many.out"
expect_match "$tmp/err" "$(summary_re 6000 6000 0 0)"
checks=$((checks + 1))
[[ $(cut -c1-30 "$tmp/many.out" | grep -oE '^\{"id":[0-9]+' | cut -d: -f2 | tr '\n' ' ') == "$(seq -s ' ' 1 6000) " ]] ||
    fail "many.out does not hold ids 1..6000 in order"
checks=$((checks + 1))
[[ $(sed -n 3001p "$tmp/many.out" | grep -o '"blob":"x*"' | wc -c) -eq $((${#big} + 10)) ]] ||
    fail "the long record lost its blob"

echo "== run -j: workers keep input order, counts and failures"
# Every 7th record fails validation, every 5th is a draft (excluded), every 97th line is not JSON.
for i in $(seq 1 6000); do
    if ((i % 97 == 0)); then echo "{\"id\": $i, oops"
    elif ((i % 7 == 0)); then echo "{\"id\": $i, \"amount\": -$i}"
    elif ((i % 5 == 0)); then echo "{\"id\": $i, \"amount\": $i, \"draft\": true}"
    else echo "{\"id\": $i, \"amount\": $((i % 300))}"; fi
done >"$tmp/mixed.jsonl"
mixed_summary=$(summary_re 6000 4072 1018 910)
for j in 1 3 0; do
    expect_exit 1 "$statenet" run "$wf/pipeline.toml" -j $j -i "$tmp/mixed.jsonl" -o "$tmp/mixed.$j.out" --errors "$tmp/mixed.$j.err"
    expect_match "$tmp/err" "$mixed_summary"
done
for j in 3 0; do
    checks=$((checks + 1))
    cmp -s "$tmp/mixed.1.out" "$tmp/mixed.$j.out" || fail "-j $j output differs from -j 1"
    checks=$((checks + 1))
    cmp -s "$tmp/mixed.1.err" "$tmp/mixed.$j.err" || fail "-j $j --errors file differs from -j 1"
done
expect_line "$tmp/mixed.3.err" '{"line":7,"error":{"name":"ValidationFailed","message":"amount must not be negative","state":"main/intake"},"record":{"id": 7, "amount": -7}}'
expect_exit 0 "$statenet" run "$wf/pipeline.toml" --workers 2 -i "$tmp/many.jsonl" -o "$tmp/many2.out" -q
checks=$((checks + 1))
cmp -s "$tmp/many.out" "$tmp/many2.out" || fail "--workers 2 output of many.jsonl differs from the sequential one"
# Without --errors the failure lines on stderr keep input order too.
expect_exit 1 "$statenet" run "$wf/pipeline.toml" -j 3 -i "$wf/records.jsonl" -q
expect_file "$tmp/out" "$expected_out"
checks=$((checks + 1))
[[ $(grep -oE '^statenet: record [0-9]+' "$tmp/err" | tr '\n' ' ') == "statenet: record 4 statenet: record 5 statenet: record 8 " ]] ||
    fail "-j 3 failure lines are not in input order"

expect_exit 2 "$statenet" run "$wf/pipeline.toml" -i "$tmp/does-not-exist.jsonl"
expect_match "$tmp/err" "^statenet: error: cannot open input '.*does-not-exist.jsonl'"

echo "== run --set"
expect_exit 0 "$statenet" run "$wf/pipeline.toml" --set label=nightly --set factor=3 --data '{"id": 1, "amount": 10}'
expect_contains "$tmp/out" '"label": "nightly"'
expect_contains "$tmp/out" '"scaled": 30'
expect_contains "$tmp/out" '"factor_type": "number"'
expect_exit 0 "$statenet" run "$wf/pipeline.toml" --set 'factor="3"' --set 'label={"team": "ops"}' --data '{"id": 1, "amount": 10}'
expect_contains "$tmp/out" '"factor_type": "string"'
expect_contains "$tmp/out" '"team": "ops"'
expect_exit 1 "$statenet" run "$wf/pipeline.toml" --set label=stream -i "$wf/records.jsonl" -q
expect_line "$tmp/out" '{"id":6,"amount":20,"factor_type":"number","label":"stream","scaled":40}'
expect_exit 2 "$statenet" run "$wf/pipeline.toml" --set label --data '{}'
expect_line "$tmp/err" "statenet: error: --set 'label': expected key=value"

echo "== run --mode"
expect_exit 0 "$statenet" run "$wf/scribble.toml" --data '{"id": 1}'
expect_contains "$tmp/out" '"final_state": "main/recovered"'
expect_absent "$tmp/out" 'scribbled'
expect_exit 0 "$statenet" run "$wf/scribble.toml" --mode copy --data '{"id": 1}'
expect_absent "$tmp/out" 'scribbled'
expect_exit 0 "$statenet" run "$wf/scribble.toml" --mode direct --data '{"id": 1}'
expect_contains "$tmp/out" '"scribbled": true'
expect_exit 2 "$statenet" run "$wf/scribble.toml" --mode reference --data '{"id": 1}'
expect_match "$tmp/err" "data mode 'reference' needs a \[reference\] table"
expect_exit 2 "$statenet" run "$wf/scribble.toml" --mode fast --data '{"id": 1}'
expect_match "$tmp/err" '^statenet: error: --mode'

echo "== validate"
expect_exit 0 "$statenet" validate "$wf/pipeline.toml" "$wf/scribble.toml"
expect_line "$tmp/out" "$wf/pipeline.toml: ok"
expect_line "$tmp/out" "$wf/scribble.toml: ok"
expect_exit 2 "$statenet" validate "$wf/pipeline.toml" "$wf/broken.toml"
expect_line "$tmp/out" "$wf/pipeline.toml: ok"
expect_line "$tmp/err" "$wf/broken.toml:3:1: error: unknown key 'colour' in workflow"
expect_match "$tmp/err" "^$wf/broken.toml:9:6: error: arc 'to': unknown state 'nowhere'"
expect_absent "$tmp/out" "broken.toml: ok"
expect_exit 2 "$statenet" validate --format json "$wf/pipeline.toml" "$wf/broken.toml"
expect_contains "$tmp/out" '"file": "'"$wf"'/pipeline.toml",'
expect_contains "$tmp/out" '"ok": false,'
expect_contains "$tmp/out" '"line": 3,'
expect_contains "$tmp/out" '"column": 1,'
expect_contains "$tmp/out" '"severity": "error",'
expect_contains "$tmp/out" '"message": "unknown key '"'"'colour'"'"' in workflow"'
python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); assert [f["ok"] for f in r] == [True, False] and len(r[1]["diagnostics"]) >= 2' "$tmp/out" ||
    fail "validate --format json is not the expected JSON"
expect_exit 2 "$statenet" validate --format xml "$wf/pipeline.toml"
expect_exit 2 "$statenet" validate "$tmp/missing.toml"
expect_contains "$tmp/err" "$tmp/missing.toml"

expect_exit 2 "$statenet" run "$wf/broken.toml" --data '{}'
expect_line "$tmp/err" "statenet: error: $wf/broken.toml:3:1: unknown key 'colour' in workflow"
expect_match "$tmp/err" "^statenet: error: $wf/broken.toml:9:6: arc 'to': unknown state 'nowhere'"

echo "== graph"
expect_exit 0 "$statenet" graph "$wf/pipeline.toml"
expect_contains "$tmp/out" 'digraph'
for state in main/intake main/accepted main/draft review/check review/approved; do
    expect_contains "$tmp/out" "\"$state\""
done
expect_match "$tmp/out" '"main/intake" -> "review/check" .*push'
expect_exit 0 "$statenet" graph "$wf/pipeline.toml" --format mermaid -o "$tmp/graph.mmd"
expect_file "$tmp/out" ""
expect_contains "$tmp/graph.mmd" 'flowchart'
for state in main_intake main_accepted main_draft review_check review_approved; do
    expect_contains "$tmp/graph.mmd" "$state"
done
expect_match "$tmp/graph.mmd" 'main_intake .*push.* review_check'
expect_exit 2 "$statenet" graph "$wf/pipeline.toml" --format svg

echo "== version, help, usage errors"
expect_exit 0 "$statenet" version
expect_match "$tmp/out" '^statenet [0-9]+\.[0-9]+\.[0-9]+$'
cp "$tmp/out" "$tmp/version"
expect_exit 0 "$statenet" --version
expect_file "$tmp/out" "$(cat "$tmp/version")"

expect_exit 0 "$statenet" --help
expect_contains "$tmp/out" 'Usage: statenet'
for command in run validate graph version; do
    expect_exit 0 "$statenet" "$command" --help
    expect_contains "$tmp/out" "Usage: statenet $command"
done
expect_contains "$tmp/out" 'Print the statenet version'
expect_exit 0 "$statenet" run --help
expect_contains "$tmp/out" '-j,--workers'

expect_exit 2 "$statenet"
expect_contains "$tmp/err" 'Usage: statenet'
expect_exit 2 "$statenet" frobnicate
expect_line "$tmp/err" "statenet: error: unknown command 'frobnicate' (expected run, validate, graph, history, signal, machine, new or version)"
expect_exit 2 "$statenet" run
expect_match "$tmp/err" '^statenet: error: .*WORKFLOW'
expect_exit 2 "$statenet" run "$wf/pipeline.toml" --no-such-flag
expect_match "$tmp/err" '^statenet: error: .*--no-such-flag'

cli_done
