#!/usr/bin/env bash
# --resume under kill -9: real `statenet run` processes are killed at random points (at least
# 5 times per sink) and resumed; the final output must equal an uninterrupted run's, every
# record exactly once. Sinks: a JSONL file with an errors file, a gzip file, a SQLite table.
# Usage: tests/stream_resume_test.sh STATENET_BINARY SOURCE_ROOT
set -euo pipefail

statenet=$1
wf=$2/tests/workflows/cli/slow.toml
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
RANDOM=$$  # random kill points, different on every run

# Every 97th line is not JSON, every 7th record fails validation, every 5th is a draft.
awk 'BEGIN { for (i = 1; i <= 40000; i++) {
    if (i % 97 == 0) print "{\"id\": " i ", oops"
    else if (i % 7 == 0) print "{\"id\": " i ", \"amount\": -1}"
    else if (i % 5 == 0) print "{\"id\": " i ", \"amount\": 1, \"draft\": true}"
    else print "{\"id\": " i ", \"amount\": " i % 300 "}" } }' >"$tmp/in.jsonl"

die() { echo "FAIL: $*" >&2; exit 1; }

# progress KIND TARGET: how much of the output exists (bytes of a file, rows of a table).
progress() {
    case $1 in
    file) stat -c %s "$2" 2>/dev/null || echo 0 ;;
    table) sqlite3 "$2" 'SELECT count(*) FROM out' 2>/dev/null || echo 0 ;;
    esac
}

# kill_and_resume NAME KIND TARGET FINAL CMD...: runs CMD with --resume 6 times, killing
# each run with SIGKILL at a random moment after its output passes a random point between
# 5% and 65% of FINAL (the size of the uninterrupted output), then lets one more resumed
# run finish. At least 5 of the kills must hit a live run.
kill_and_resume() {
    local name=$1 kind=$2 target=$3 final=$4
    shift 4
    local kills=0 round point pid status
    for round in 0 1 2 3 4 5; do
        "$@" --resume -q 2>"$tmp/$name.stderr" &
        pid=$!
        point=$((final * (10 * round + RANDOM % 10 + 5) / 100))
        while kill -0 "$pid" 2>/dev/null && (($(progress "$kind" "$target") < point)); do sleep 0.005; done
        sleep "0.0$((RANDOM % 3))$((RANDOM % 10))"
        kill -9 "$pid" 2>/dev/null && kills=$((kills + 1))
        wait "$pid" 2>/dev/null || true
    done
    set +e
    "$@" --resume -q 2>"$tmp/$name.stderr"
    status=$?
    set -e
    [[ $status -le 1 ]] || { cat "$tmp/$name.stderr" >&2; die "$name: the last resumed run failed with status $status"; }
    ((kills >= 5)) || die "$name: only $kills runs were killed part-way"
    echo "$name: killed $kills times, then finished"
}

# The statenet command itself, not a shell function, so $! is its pid and kill hits it.
run=("$statenet" run "$wf" -i "$tmp/in.jsonl")

echo "== JSONL file and errors file"
set +e
"${run[@]}" -o "$tmp/ref.jsonl" --errors "$tmp/ref.err" -j 2 -q
set -e
kill_and_resume jsonl file "$tmp/out.jsonl" "$(stat -c %s "$tmp/ref.jsonl")" \
    "${run[@]}" -o "$tmp/out.jsonl" --errors "$tmp/out.err" -j 2
cmp "$tmp/ref.jsonl" "$tmp/out.jsonl" || die "the resumed JSONL output differs from the uninterrupted one"
cmp "$tmp/ref.err" "$tmp/out.err" || die "the resumed errors file differs from the uninterrupted one"
grep -q '"done":true' "$tmp/out.jsonl.checkpoint" || die "the checkpoint is not marked done"

echo "== gzip file"
kill_and_resume gzip file "$tmp/out.jsonl.gz" "$(gzip -c "$tmp/ref.jsonl" | wc -c)" \
    "${run[@]}" -o "$tmp/out.jsonl.gz" --checkpoint "$tmp/gz.checkpoint" -j 2
zcat "$tmp/out.jsonl.gz" | cmp - "$tmp/ref.jsonl" || die "the resumed gzip output differs from the uninterrupted one"

echo "== SQLite table"
set +e
"${run[@]}" -o "$tmp/ref.db" --table out -q 2>/dev/null
set -e
kill_and_resume sqlite table "$tmp/out.db" "$(sqlite3 "$tmp/ref.db" 'SELECT count(*) FROM out')" \
    "${run[@]}" -o "$tmp/out.db" --table out --batch-size 500 -j 2
dump() { sqlite3 "$1" 'SELECT id, amount, spun FROM out ORDER BY rowid'; }
[[ "$(dump "$tmp/ref.db")" == "$(dump "$tmp/out.db")" ]] || die "the resumed SQLite table differs from the uninterrupted one"
[[ $(sqlite3 "$tmp/out.db" 'SELECT count(DISTINCT id) FROM out') == $(sqlite3 "$tmp/out.db" 'SELECT count(*) FROM out') ]] ||
    die "a record is in the SQLite table twice"

echo "resume tests passed"
