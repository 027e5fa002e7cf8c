#!/usr/bin/env bash
# End-to-end tests of execution history through the statenet command: recording with
# `run --history`, `statenet history ...`, replay, and a process killed mid-run.
# Usage: tests/history_cli_test.sh STATENET_BINARY SOURCE_ROOT
set -euo pipefail

statenet=$1
wf=$2/tests/workflows/history
tmp=$(mktemp -d)
feeder_pid=""
trap '[[ -n $feeder_pid ]] && kill -9 $feeder_pid 2>/dev/null; rm -rf "$tmp"' EXIT
source "$(dirname "$0")/cli_lib.sh"

# count_lines FILE TEXT: how many lines of FILE contain TEXT.
count_lines() { grep -cF -- "$2" "$1" || true; }

# expect_count FILE TEXT N: exactly N lines of FILE contain TEXT.
expect_count() {
    checks=$((checks + 1))
    local n
    n=$(count_lines "$1" "$2")
    [[ $n -eq $3 ]] || fail "$(basename "$1") has $n lines with '$2', expected $3"
}

# A workflow whose transform the replay test changes.
pricing() {
    cat >"$tmp/pricing.toml" <<EOF
name = "pricing"
version = "$1"
[networks.main.states.intake]
start = true
schema = { amount = "number" }
[[networks.main.states.intake.arcs]]
to = "price"
[networks.main.states.price]
transform = { lua = "data.total = data.amount * $2" }
[[networks.main.states.price.arcs]]
to = "done"
[networks.main.states.done]
end = true
EOF
}
printf '{"amount": 10}\n{"amount": 0}\n{"amount": "ten"}\n' >"$tmp/records.jsonl"

echo "== run --history records runs and steps"
pricing 1 1.2
db=$tmp/h.db
expect_exit 1 "$statenet" run "$tmp/pricing.toml" -i "$tmp/records.jsonl" -o "$tmp/out.jsonl" \
    --errors "$tmp/errors.jsonl" --history "$db" --history-level full
expect_exit 0 "$statenet" history list --db "$db"
expect_match "$tmp/out" '^ +#1  [0-9a-f-]{36}  20[0-9-]+T[0-9:.]+Z  ok +main/done '
expect_match "$tmp/out" '^ +#3  .* failed +main/intake .*SchemaViolation: amount: expected number, got string'
expect_exit 0 "$statenet" history list --db "$db" --status failed --format json
expect_count "$tmp/out" '"run_id"' 1
expect_contains "$tmp/out" '"position": 3'
expect_exit 0 "$statenet" history list --db "$db" --state price --format json
expect_count "$tmp/out" '"run_id"' 2
expect_exit 0 "$statenet" history list --db "$db" --since 1h --limit 1 --format json
expect_count "$tmp/out" '"run_id"' 1
expect_contains "$tmp/out" '"id": 3'
expect_exit 0 "$statenet" history list --db "$db" --until 2000-01-01 --format json
expect_file "$tmp/out" "[]"

expect_exit 0 "$statenet" history show '#1' --db "$db"
expect_match "$tmp/out" '^run [0-9a-f-]{36} \(#1\)$'
expect_contains "$tmp/out" 'workflow   pricing 1 ('
expect_contains "$tmp/out" 'input      {"amount":10}'
expect_contains "$tmp/out" 'output     {"amount":10,"total":12}'
expect_match "$tmp/out" '^   1  main/intake +ok .* -> main/price$'
expect_match "$tmp/out" '^   2  main/price +ok .* -> main/done$'
expect_contains "$tmp/out" 'changes {"set":{"total":12}}'
run_id=$(sed -n 's/^run \([0-9a-f-]*\) (#1)$/\1/p' "$tmp/out")
expect_exit 0 "$statenet" history show "${run_id:0:8}" --db "$db" --format json
expect_contains "$tmp/out" "\"run_id\": \"$run_id\""
expect_contains "$tmp/out" '"via": "start"'
expect_exit 0 "$statenet" history show '#1' --db "$db" --format mermaid
expect_line "$tmp/out" 'flowchart LR'
expect_line "$tmp/out" '  s0 -->|"2"| s1'
expect_exit 0 "$statenet" history show '#3' --db "$db" --format dot -o "$tmp/run3.dot"
expect_contains "$tmp/run3.dot" 'digraph run {'
expect_contains "$tmp/run3.dot" 's0 [label="main/intake", color=red'
expect_exit 0 "$statenet" history path '#1' --db "$db"
expect_file "$tmp/out" $'main/intake\nmain/price\nmain/done'
expect_exit 0 "$statenet" history path '#1' --db "$db" --format json
expect_file "$tmp/out" '["main/intake","main/price","main/done"]'

expect_exit 0 "$statenet" history stats --db "$db"
expect_line "$tmp/out" 'runs: 3 (2 ok, 1 failed)'
expect_match "$tmp/out" '^main/intake +3 +1 '
expect_match "$tmp/out" '^SchemaViolation +1 +1$'
expect_exit 0 "$statenet" history stats --db "$db" --format json
expect_contains "$tmp/out" '"state": "main/price"'

expect_exit 0 "$statenet" history export --db "$db" -o "$tmp/export.jsonl"
expect_count "$tmp/export.jsonl" '"run_id"' 3
expect_contains "$tmp/export.jsonl" '"steps":[{"seq":1,'
expect_exit 0 "$statenet" history export --db "$db" --format json --status ok
expect_line "$tmp/out" '['
expect_count "$tmp/out" '"run_id"' 2

expect_exit 1 "$statenet" run "$tmp/pricing.toml" -i "$tmp/records.jsonl" -o /dev/null --errors /dev/null -j 2 \
    --history "$tmp/parallel.db" --history-level steps
expect_exit 0 "$statenet" history list --db "$tmp/parallel.db" --format json
expect_count "$tmp/out" '"run_id"' 3
for position in 1 2 3; do expect_contains "$tmp/out" "\"position\": $position,"; done

# Recording changes no output: the stream keeps its input's number texts at every level.
printf '{"amount": 2.50, "note": "x"}\n' >"$tmp/texts.jsonl"
for level in off steps full; do
    expect_exit 0 "$statenet" run "$tmp/pricing.toml" -i "$tmp/texts.jsonl" -o "$tmp/texts_$level.jsonl" \
        --history "$tmp/texts_$level.db" --history-level "$level" -q
    expect_file "$tmp/texts_$level.jsonl" '{"amount":2.50,"note":"x","total":3}'
done
expect_exit 0 "$statenet" history show '#1' --db "$tmp/texts_full.db"
expect_contains "$tmp/out" 'input      {"amount":2.5,"note":"x"}'
expect_contains "$tmp/out" 'output     {"amount":2.5,"note":"x","total":3}'

echo "== replay against a changed transform"
expect_exit 0 "$statenet" history replay --db "$db" "$tmp/pricing.toml"
expect_line "$tmp/out" 'replayed 3 runs: 0 diverged'
pricing 2 1.3
expect_exit 1 "$statenet" history replay --db "$db" "$tmp/pricing.toml"
expect_match "$tmp/out" '^run [0-9a-f-]{36} \(#1, input position 1\): output differs$'
expect_contains "$tmp/out" '  recorded: main/done  {"amount":10,"total":12}'
expect_contains "$tmp/out" '  now:      main/done  {"amount":10,"total":13}'
expect_contains "$tmp/out" '  first diverging step 2:'
expect_contains "$tmp/out" '    recorded: main/price ok -> main/done  changes {"set":{"total":12}}'
expect_contains "$tmp/out" '    now:      main/price ok -> main/done  changes {"set":{"total":13}}'
expect_line "$tmp/out" 'replayed 3 runs: 1 diverged'
expect_exit 0 "$statenet" history replay --db "$db" "$tmp/pricing.toml" '#2' '#3'
expect_line "$tmp/out" 'replayed 2 runs: 0 diverged'
expect_exit 1 "$statenet" history replay --db "$db" "$tmp/pricing.toml" --format json
expect_contains "$tmp/out" '"step_index": 2'
expect_exit 0 "$statenet" history list --db "$db" --format json
expect_count "$tmp/out" '"run_id"' 3  # replay recorded nothing

echo "== levels: [history] in the workflow, runs only, off"
expect_exit 0 "$statenet" run "$wf/tree.toml" --data '{"id": 1, "amount": -1}' --history "$tmp/tree.db"
expect_exit 0 "$statenet" history show '#1' --db "$tmp/tree.db"
expect_match "$tmp/out" '^   2    check/flaky +failed .* -> check/flaky  Flaky: first try fails$'
expect_match "$tmp/out" '^   3    check/flaky +ok .*attempt 1  via retry  -> check/strict$'
expect_match "$tmp/out" '^   5    check/rejected +end .*via on_error$'
expect_match "$tmp/out" '^   6  main/done +end .*via return from 1$'
expect_exit 0 "$statenet" history show '#1' --db "$tmp/tree.db" --format mermaid --workflow "$wf/tree.toml"
expect_line "$tmp/out" '  check_strict --x|"on_error ValidationFailed"| check_rejected'
expect_line "$tmp/out" '  class check_strict run_failed'
expect_line "$tmp/out" '  check_flaky ==>|"3 retry"| check_flaky'
expect_line "$tmp/out" '  main_intake ==>|"6 return"| main_done'
expect_exit 0 "$statenet" history show '#1' --db "$tmp/tree.db" --format dot --workflow "$wf/tree.toml"
expect_line "$tmp/out" '  "check/strict" -> "check/rejected" [label="5 on_error", color=blue, fontcolor=blue, penwidth=2];'
expect_line "$tmp/out" '    "check/accepted" [label="accepted", shape=doubleoctagon];'
expect_exit 0 "$statenet" run "$tmp/pricing.toml" --data '{"amount": 1}' --history "$tmp/runs.db" --history-level runs
expect_exit 0 "$statenet" history show '#1' --db "$tmp/runs.db"
expect_contains "$tmp/out" 'steps      none recorded (history level runs)'
expect_exit 2 "$statenet" history path '#1' --db "$tmp/runs.db"
expect_contains "$tmp/err" 'has no steps (recorded at level runs; use steps or full)'
expect_exit 0 "$statenet" history replay --db "$tmp/runs.db" "$tmp/pricing.toml"
expect_line "$tmp/out" 'replayed 0 runs: 0 diverged, 1 skipped (recorded below level full, so without their input)'
expect_exit 0 "$statenet" run "$tmp/pricing.toml" --data '{"amount": 1}' --history "$tmp/off.db" --history-level off
checks=$((checks + 1))
[[ ! -e $tmp/off.db ]] || fail "level off created $tmp/off.db"

echo "== prune"
expect_exit 0 "$statenet" history prune --db "$db" --max-runs 1
expect_line "$tmp/err" "statenet: pruned 2 runs from $db"
expect_exit 0 "$statenet" history list --db "$db" --format json
expect_count "$tmp/out" '"run_id"' 1
expect_exit 0 "$statenet" history prune --db "$db" --max-age 1d
expect_line "$tmp/err" "statenet: pruned 0 runs from $db"
expect_exit 0 "$statenet" history prune --db "$db" --before 2100-01-01
expect_exit 0 "$statenet" history list --db "$db" --format json
expect_file "$tmp/out" "[]"

echo "== history of a process killed mid-run (kill -9)"
mkfifo "$tmp/feed"
# kill_now PID: kill -9, and wait until the process is gone (it is disowned, so the
# shell reports nothing).
kill_now() {
    kill -9 "$1"
    while kill -0 "$1" 2>/dev/null; do sleep 0.05; done
}
"$statenet" run "$tmp/pricing.toml" -i "$tmp/feed" -o "$tmp/crash.jsonl" --history "$tmp/crash.db" --quiet &
feeder_pid=$!
disown "$feeder_pid"
exec 3>"$tmp/feed"
for i in $(seq 1 200); do echo "{\"amount\": $i}" >&3; done
# The process now waits for more input; its writer commits within ~100 ms of a run.
committed=0
for _ in $(seq 1 300); do
    committed=$("$statenet" history list --db "$tmp/crash.db" --format json 2>/dev/null | grep -c '"run_id"' || true)
    [[ $committed -ge 200 ]] && break
    sleep 0.1
done
kill_now "$feeder_pid"
feeder_pid=""
exec 3>&-
checks=$((checks + 1))
[[ $committed -eq 200 ]] || fail "only $committed of 200 runs were committed before the kill"
checks=$((checks + 1))
[[ -s $tmp/crash.db-wal ]] || fail "the killed writer left no write-ahead log to recover"
expect_exit 0 "$statenet" history stats --db "$tmp/crash.db"
expect_line "$tmp/out" 'runs: 200 (200 ok, 0 failed)'
expect_match "$tmp/out" '^main/price +200 +0 '
# The recovered database takes new runs.
expect_exit 0 "$statenet" run "$tmp/pricing.toml" --data '{"amount": 1}' --history "$tmp/crash.db"
expect_exit 0 "$statenet" history list --db "$tmp/crash.db" --format json --limit 1
expect_contains "$tmp/out" '"id": 201'

# Killed while busy: whatever was committed is there, each run with all its steps. The
# records never end (a file of 50,000 was sometimes all run before the kill came).
yes '{"amount": 7}' | "$statenet" run "$tmp/pricing.toml" -i - -o /dev/null --history "$tmp/busy.db" --quiet &
feeder_pid=$!
disown "$feeder_pid"
for _ in $(seq 1 300); do
    [[ -e $tmp/busy.db ]] && "$statenet" history list --db "$tmp/busy.db" --limit 1 2>/dev/null | grep -q '#' && break
    sleep 0.05
done
kill_now "$feeder_pid"
feeder_pid=""
expect_exit 0 "$statenet" history stats --db "$tmp/busy.db" --format json
runs=$(sed -n 's/^  "runs": \([0-9]*\),$/\1/p' "$tmp/out")
checks=$((checks + 1))
[[ -n $runs && $runs -ge 1 ]] || fail "no committed run survived the kill"
expect_contains "$tmp/out" "\"state\": \"main/done\","
expect_count "$tmp/out" "\"entries\": $runs," 3
echo "   killed while busy after $runs committed runs"

echo "== usage and database errors"
expect_exit 0 "$statenet" history --help
expect_contains "$tmp/out" 'Usage: statenet history'
for command in list show path stats prune export replay; do
    expect_exit 0 "$statenet" history "$command" --help
    expect_contains "$tmp/out" "Usage: statenet history $command"
done
expect_exit 0 "$statenet" run --help
expect_contains "$tmp/out" '--history-level'
expect_exit 2 "$statenet" history
expect_exit 2 "$statenet" history list
expect_match "$tmp/err" '^statenet: error: .*--db'
expect_exit 2 "$statenet" history list --db "$tmp/missing.db"
expect_line "$tmp/err" "statenet: error: history database '$tmp/missing.db' does not exist"
echo 'not a database' >"$tmp/text.db"
expect_exit 2 "$statenet" history list --db "$tmp/text.db"
expect_contains "$tmp/err" "statenet: error: history database '$tmp/text.db'"
expect_exit 2 "$statenet" history show nope --db "$tmp/crash.db"
expect_line "$tmp/err" "statenet: error: no run 'nope' in history database '$tmp/crash.db'"
expect_exit 2 "$statenet" history list --db "$tmp/crash.db" --since yesterday
expect_contains "$tmp/err" "statenet: error: --since 'yesterday': expected a UTC time"
expect_exit 2 "$statenet" history list --db "$tmp/crash.db" --status maybe
expect_exit 2 "$statenet" history prune --db "$tmp/crash.db"
expect_line "$tmp/err" 'statenet: error: history prune needs --max-runs, --max-age or --before'
expect_exit 2 "$statenet" history show '#1' --db "$tmp/runs.db" --format mermaid
expect_contains "$tmp/err" 'has no steps to draw (recorded at level runs)'
expect_exit 2 "$statenet" run "$tmp/pricing.toml" --data '{}' --history "$tmp/text.db"
expect_contains "$tmp/err" "pricing.toml: history database '$tmp/text.db': file is not a database"
expect_exit 2 "$statenet" run "$tmp/pricing.toml" --data '{}' --history "$tmp/no/such/dir/h.db"
expect_contains "$tmp/err" "pricing.toml: history database '$tmp/no/such/dir/h.db': unable to open database file"
expect_exit 2 "$statenet" run "$tmp/pricing.toml" --data '{}' --history-level verbose
expect_match "$tmp/err" '^statenet: error: .*--history-level'

cli_done
