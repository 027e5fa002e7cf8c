#!/usr/bin/env bash
# Several `statenet run --history` processes opening one new history database at the same
# moment: every run is recorded, none fails with "database is locked".
# Usage: tests/history_open_cli_test.sh STATENET_BINARY SOURCE_ROOT
set -euo pipefail

statenet=$1
wf=$2/tests/workflows/bad_input
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
source "$(dirname "$0")/cli_lib.sh"

echo "== 6 processes, 10 new databases"
printf '{"id":1,"line":"x"}\n' >"$tmp/in.jsonl"
for round in $(seq 10); do
    pids=()
    for writer in $(seq 6); do
        "$statenet" run "$wf/passthrough.toml" -i "$tmp/in.jsonl" -o "$tmp/out-$writer.jsonl" -q \
            --history "$tmp/h-$round.db" --history-level runs 2>"$tmp/err-$round-$writer" &
        pids+=($!)
    done
    for i in "${!pids[@]}"; do
        checks=$((checks + 1))
        if ! wait "${pids[$i]}"; then
            cp "$tmp/err-$round-$((i + 1))" "$tmp/err"
            : >"$tmp/out"
            last_command="round $round, writer $((i + 1))"
            fail "a writer failed"
        fi
    done
    checks=$((checks + 1))
    runs=$(sqlite3 "$tmp/h-$round.db" "SELECT count(*) FROM runs")
    [[ $runs -eq 6 ]] || fail "round $round recorded $runs runs, not 6"
done

cli_done
