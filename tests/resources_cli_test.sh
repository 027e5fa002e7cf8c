#!/usr/bin/env bash
# End-to-end tests of the vector and files resources and ${ENV} expansion through the
# statenet command: a two-worker stream with batch transactions, a second run on the
# persisted store, and a missing variable.
# Usage: tests/resources_cli_test.sh STATENET_BINARY SOURCE_ROOT
set -euo pipefail

statenet=$1
wf=$2/tests/workflows/cli
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
source "$(dirname "$0")/cli_lib.sh"
cp "$wf/notes.toml" "$wf/notes.lua" "$tmp/"
unset NOTES_VEC NOTES_DIR NOTES_MISSING

echo "== a stream: file writes follow the records' transactions, vector adds do not"
for i in $(seq 1 10); do echo "{\"id\": $i, \"v\": [$i, 1]}"; done >"$tmp/in.jsonl"
expect_exit 1 "$statenet" run "$tmp/notes.toml" -i "$tmp/in.jsonl" -o "$tmp/out.jsonl" -j 2 --errors "$tmp/err.jsonl" --quiet
expect_contains "$tmp/err.jsonl" 'notes.lua:7: five fails"'
sort -n "$tmp/files/log/1.txt" >"$tmp/odd"
expect_file "$tmp/odd" $'1\n3\n7\n9'
sort -n "$tmp/files/log/0.txt" >"$tmp/even"
expect_file "$tmp/even" $'2\n4\n6\n8\n10'
sqlite3 "$tmp/notes.db" "SELECT count(*) FROM statenet_vectors" >"$tmp/count"
expect_file "$tmp/count" '10'  # record 5's add stays: vector writes are not transactional
ls -A "$tmp/files" >"$tmp/listing"
expect_file "$tmp/listing" 'log'  # no temp files left

echo "== the store persists: a second run searches the first run's vectors"
expect_exit 0 "$statenet" run "$tmp/notes.toml" --data '{"query": [8.1, 1], "filter": {"parity": 1}}'
expect_contains "$tmp/out" '"ids": "9 7"'

echo "== \${ENV}: values and defaults at load, a missing variable is a located error"
NOTES_DIR="$tmp/elsewhere" expect_exit 0 "$statenet" run "$tmp/notes.toml" --data '{"id": 11, "v": [1, 2]}'
expect_file "$tmp/elsewhere/log/1.txt" '11'
sed -i 's/NOTES_VEC:-notes.db/NOTES_MISSING/' "$tmp/notes.toml"
expect_exit 2 "$statenet" validate "$tmp/notes.toml"
expect_contains "$tmp/err" "notes.toml:9:8: error: environment variable 'NOTES_MISSING' is not set"

cli_done
