#!/usr/bin/env bash
# End-to-end tests of wait states through the statenet command: records parked by a
# stream, listed with `history list --parked`, resumed by `statenet signal` from other
# processes (exactly once, even when two signal at the same moment), timed out with
# `signal --expire`, and parked without history in a --park database.
# Usage: tests/wait_cli_test.sh STATENET_BINARY SOURCE_ROOT
set -euo pipefail

statenet=$1
wf=$2/tests/workflows/wait/approval.toml
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
source "$(dirname "$0")/cli_lib.sh"

# run_ids FILE: the run ids in `history list --parked` output, one per line.
parked_ids() { grep -oE '^[0-9a-f-]{36}' "$1" || true; }

db=$tmp/h.db
printf '%s\n' '{"id": 1, "amount": 50}' '{"id": 2, "amount": 500}' '{"id": 3, "amount": 700}' \
    '{"id": 4, "amount": "x"}' '{"id": 5, "amount": 900}' >"$tmp/in.jsonl"

echo "== a stream parks the records that wait, and says so"
expect_exit 1 "$statenet" run "$wf" -i "$tmp/in.jsonl" -o "$tmp/out.jsonl" --history "$db" --errors "$tmp/errors.jsonl"
expect_match "$tmp/err" '^statenet: 5 records: 1 emitted, 0 excluded, 1 failed, 3 parked in '
expect_match "$tmp/err" '^statenet: parked, waiting for a signal: [0-9a-f-]{36} [0-9a-f-]{36} [0-9a-f-]{36}$'
expect_file "$tmp/out.jsonl" '{"id":1,"amount":50}'
expect_contains "$tmp/errors.jsonl" '"line":4'

echo "== history list --parked lists them: run id, state, signal, deadline, since"
expect_exit 0 "$statenet" history list --db "$db" --parked
expect_match "$tmp/out" '^RUN +STATE +SIGNAL +DEADLINE +SINCE +STATUS$'
expect_match "$tmp/out" '^[0-9a-f-]{36}  main/await_approval +approval +20[0-9-]+T[0-9:.]+Z  20[0-9-]+T[0-9:.]+Z  waiting$'
mapfile -t ids < <(parked_ids "$tmp/out")
checks=$((checks + 1))
[[ ${#ids[@]} -eq 3 ]] || fail "expected 3 parked records, got ${#ids[@]}"
expect_exit 2 "$statenet" history list --db "$db" --parked --status ok
expect_contains "$tmp/err" "--parked lists every waiting record: it takes no run filters"
expect_exit 0 "$statenet" history list --db "$db" --parked --format json
expect_contains "$tmp/out" '"signal": "approval"'
expect_contains "$tmp/out" '"status": "waiting"'

echo "== a signal from another process resumes the record with its payload in ctx.signal"
expect_exit 0 "$statenet" signal --db "$db" "${ids[0]}" approval --data '{"approved": true, "approved_by": "ann"}'
expect_contains "$tmp/out" '"ok": true'
expect_contains "$tmp/out" '"final_state": "main/approved"'
expect_contains "$tmp/out" '"approved_by": "ann"'
expect_contains "$tmp/out" '"requested": true'
expect_contains "$tmp/out" "\"run_id\": \"${ids[0]}\""
tr -d ' \n' <"$tmp/out" >"$tmp/flat"
expect_contains "$tmp/flat" '"path":["main/intake","main/await_approval","main/approved"]'
expect_contains "$tmp/flat" '"transitions":2'

echo "== its outcome is in the history like any run's"
expect_exit 0 "$statenet" history show --db "$db" "${ids[0]}"
expect_match "$tmp/out" '^status +ok in main/approved$'
expect_exit 0 "$statenet" history list --db "$db" --parked
expect_absent "$tmp/out" "${ids[0]}"
expect_exit 0 "$statenet" history list --db "$db" --parked --format json
expect_absent "$tmp/out" "${ids[0]}"

echo "== a second signal, a wrong signal name and an unknown run id are refused"
expect_exit 2 "$statenet" signal --db "$db" "${ids[0]}" approval --data '{"approved": false}'
expect_match "$tmp/err" "^statenet: error: run ${ids[0]} was already resumed \(by approval at 20[0-9-]+T"
expect_exit 2 "$statenet" signal --db "$db" "${ids[1]}" payment
expect_contains "$tmp/err" "statenet: error: run ${ids[1]} waits in state main/await_approval for signal 'approval', not 'payment'"
expect_exit 2 "$statenet" signal --db "$db" 00000000-0000-4000-8000-000000000000 approval
expect_contains "$tmp/err" "no record is parked under run id '00000000-0000-4000-8000-000000000000'"
expect_exit 2 "$statenet" signal --db "$db" "${ids[1]}" approval --data '{"approved": '
expect_contains "$tmp/err" "statenet: error: --data:"
expect_exit 0 "$statenet" history list --db "$db" --parked
expect_contains "$tmp/out" "${ids[1]}"

echo "== two processes signalling at once: exactly one resumes the record"
for who in a b; do
    (
        set +e
        "$statenet" signal --db "$db" "${ids[1]}" approval --data '{"approved": false}' >"$tmp/$who.out" 2>"$tmp/$who.err"
        echo $? >"$tmp/$who.rc"
    ) &
done
wait
codes="$(cat "$tmp/a.rc") $(cat "$tmp/b.rc")"
checks=$((checks + 1))
[[ $codes == "0 2" || $codes == "2 0" ]] || fail "exit codes of two concurrent signals: $codes (expected one 0, one 2)"
cat "$tmp/a.err" "$tmp/b.err" >"$tmp/err"
expect_match "$tmp/err" "^statenet: error: run ${ids[1]} (was already resumed|is being resumed by another signal)"
cat "$tmp/a.out" "$tmp/b.out" >"$tmp/out"
expect_contains "$tmp/out" '"final_state": "main/rejected"'
expect_exit 0 "$statenet" history list --db "$db" --format json --state rejected
expect_contains "$tmp/out" "\"run_id\": \"${ids[1]}\""

echo "== --expire resumes the overdue records with SignalTimeout (an on_error route here)"
expect_exit 0 "$statenet" signal --db "$db" --expire
expect_contains "$tmp/err" "statenet: 0 overdue records resumed"
later=$(date -u -d '+2 hours' +%Y-%m-%dT%H:%M:%SZ)
expect_exit 0 "$statenet" signal --db "$db" --expire --now "$later" -o "$tmp/expired.jsonl"
expect_contains "$tmp/err" "statenet: 1 overdue records resumed with SignalTimeout: 1 ok, 0 failed, 0 parked again"
expect_contains "$tmp/expired.jsonl" '"final_state":"main/expired"'
expect_contains "$tmp/expired.jsonl" '"expired":"SignalTimeout"'
expect_contains "$tmp/expired.jsonl" "\"run_id\":\"${ids[2]}\""
expect_exit 2 "$statenet" signal --db "$db" "${ids[2]}" approval
expect_contains "$tmp/err" "was already resumed (by SignalTimeout at"
expect_exit 0 "$statenet" history list --db "$db" --parked
expect_absent "$tmp/out" "main/await_approval"

echo "== without history a record parks in the --park database"
expect_exit 2 "$statenet" run "$wf" -i "$tmp/in.jsonl" -o "$tmp/out2.jsonl"
expect_contains "$tmp/err" "statenet: error: this workflow has wait states: a 'wait' state parks records in a database"
expect_exit 1 "$statenet" run "$wf" --data '{"amount": 300}'
expect_contains "$tmp/out" '"name": "WaitFailed"'
park=$tmp/park.db
expect_exit 0 "$statenet" run "$wf" --data '{"amount": 300}' --park "$park"
expect_contains "$tmp/out" '"parked": true'
expect_contains "$tmp/out" '"signal": "approval"'
expect_contains "$tmp/out" '"final_state": "main/await_approval"'
id=$(grep -oE '"run_id": "[0-9a-f-]{36}"' "$tmp/out" | grep -oE '[0-9a-f-]{36}')
expect_exit 0 "$statenet" history list --db "$park" --parked
expect_contains "$tmp/out" "$id"
expect_exit 0 "$statenet" signal --db "$park" "${id:0:8}" approval --data '{"approved": true, "approved_by": "bob"}' -o "$tmp/one.json"
expect_contains "$tmp/one.json" '"approved_by": "bob"'
expect_exit 0 "$statenet" history list --db "$park"
expect_absent "$tmp/out" "$id"

echo "== a machine workflow may not wait"
expect_exit 2 "$statenet" machine start --store "$tmp/m.db" "$wf" m1
expect_match "$tmp/err" "approval.toml:[0-9]+:[0-9]+: 'wait' \(state 'main/await_approval'\) is for records: a machine instance waits for events in every state; use an arc with on = \"approval\""

echo "== validate and graph take a wait workflow without a database; graph shows the signal"
expect_exit 0 "$statenet" validate "$wf"
expect_exit 0 "$statenet" graph "$wf"
expect_contains "$tmp/out" '"main/await_approval" [label="await_approval (waits for approval)"];'

echo "== signal --help"
expect_exit 0 "$statenet" signal --help
expect_contains "$tmp/out" "--expire"
expect_contains "$tmp/out" "RUN_ID"

cli_done
