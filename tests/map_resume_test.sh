#!/usr/bin/env bash
# A map state over a 100k-item JSONL reader under kill -9: `statenet run --data '{}' --resume`
# is killed at random points (at least 5 times per sink) and resumed; the map's sink must end
# up equal to an uninterrupted run's, every item exactly once. Sinks: a JSONL file with an
# errors file, a SQLite table.
# Usage: tests/map_resume_test.sh STATENET_BINARY SOURCE_ROOT
set -euo pipefail

statenet=$1
workflows=$2/tests/workflows/cli
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
RANDOM=$$

# Every 97th line is not JSON, every 7th item fails validation, every 5th is a draft.
awk 'BEGIN { for (i = 1; i <= 100000; i++) {
    if (i % 97 == 0) print "{\"id\": " i ", oops"
    else if (i % 7 == 0) print "{\"id\": " i ", \"amount\": -1}"
    else if (i % 5 == 0) print "{\"id\": " i ", \"amount\": 1, \"draft\": true}"
    else print "{\"id\": " i ", \"amount\": " i % 300 "}" } }' >"$tmp/items.jsonl"
export MAP_ITEMS=$tmp/items.jsonl

die() { echo "FAIL: $*" >&2; exit 1; }

progress() {
    case $1 in
    file) stat -c %s "$2" 2>/dev/null || echo 0 ;;
    table) sqlite3 "$2" 'SELECT count(*) FROM items' 2>/dev/null || echo 0 ;;
    esac
}

# kill_and_resume NAME KIND TARGET FINAL CMD...: as in stream_resume_test.sh: 6 runs killed
# with SIGKILL after their output passes a random point, then one resumed run to the end.
kill_and_resume() {
    local name=$1 kind=$2 target=$3 final=$4
    shift 4
    local kills=0 round point pid status
    for round in 0 1 2 3 4 5; do
        "$@" --resume >"$tmp/$name.result" 2>"$tmp/$name.stderr" &
        pid=$!
        point=$((final * (10 * round + RANDOM % 10 + 5) / 100))
        while kill -0 "$pid" 2>/dev/null && (($(progress "$kind" "$target") < point)); do sleep 0.005; done
        sleep "0.0$((RANDOM % 3))$((RANDOM % 10))"
        kill -9 "$pid" 2>/dev/null && kills=$((kills + 1))
        wait "$pid" 2>/dev/null || true
    done
    set +e
    "$@" --resume >"$tmp/$name.result" 2>"$tmp/$name.stderr"
    status=$?
    set -e
    [[ $status -eq 0 ]] || { cat "$tmp/$name.stderr" "$tmp/$name.result" >&2; die "$name: the last resumed run failed with status $status"; }
    ((kills >= 5)) || die "$name: only $kills runs were killed part-way"
    grep -q '"final_state": "main/done"' "$tmp/$name.result" || die "$name: the record did not finish"
    grep -q '"total": 100000' "$tmp/$name.result" || die "$name: the map did not count 100000 items"
    grep -Eq '"resumed": [1-9]' "$tmp/$name.result" || die "$name: the last run resumed nothing"
    echo "$name: killed $kills times, then finished"
}

echo "== JSONL file sink and errors file"
MAP_OUT=$tmp/ref.jsonl MAP_ERRORS=$tmp/ref.err "$statenet" run "$workflows/map_resume.toml" --data '{}' >"$tmp/ref.result"
grep -q '"emitted": 67866' "$tmp/ref.result" || die "the uninterrupted map emitted the wrong count"
export MAP_OUT=$tmp/out.jsonl MAP_ERRORS=$tmp/out.err
kill_and_resume jsonl file "$tmp/out.jsonl" "$(stat -c %s "$tmp/ref.jsonl")" \
    "$statenet" run "$workflows/map_resume.toml" --data '{}'
cmp "$tmp/ref.jsonl" "$tmp/out.jsonl" || die "the resumed map's output differs from the uninterrupted one"
cmp "$tmp/ref.err" "$tmp/out.err" || die "the resumed map's errors file differs from the uninterrupted one"
grep -q '"done":true' "$tmp/out.jsonl.checkpoint" || die "the map's checkpoint is not marked done"

echo "== SQLite table sink"
MAP_DB=$tmp/ref.db MAP_ERRORS=$tmp/ref_table.err "$statenet" run "$workflows/map_resume_table.toml" --data '{}' >/dev/null
export MAP_DB=$tmp/out.db MAP_ERRORS=$tmp/out_table.err
kill_and_resume sqlite table "$tmp/out.db" "$(sqlite3 "$tmp/ref.db" 'SELECT count(*) FROM items')" \
    "$statenet" run "$workflows/map_resume_table.toml" --data '{}'
dump() { sqlite3 "$1" 'SELECT id, amount, spun FROM items ORDER BY rowid'; }
[[ "$(dump "$tmp/ref.db")" == "$(dump "$tmp/out.db")" ]] || die "the resumed map's table differs from the uninterrupted one"
[[ $(sqlite3 "$tmp/out.db" 'SELECT count(DISTINCT id) FROM items') == $(sqlite3 "$tmp/out.db" 'SELECT count(*) FROM items') ]] ||
    die "an item is in the SQLite table twice"

echo "== without --resume a map starts over"
"$statenet" run "$workflows/map_resume_table.toml" --data '{}' >"$tmp/again.result"
grep -q '"resumed": 0' "$tmp/again.result" || die "a run without --resume resumed"

echo "map resume tests passed"
