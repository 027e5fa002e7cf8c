#!/usr/bin/env bash
# End-to-end tests of reference mode and batch transactions through the statenet command,
# on real SQLite files made with the sqlite3 shell.
# Usage: tests/cli_sqlite_test.sh STATENET_BINARY SOURCE_ROOT
set -euo pipefail

statenet=$1
wf=$2/tests/workflows/cli
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
source "$(dirname "$0")/cli_lib.sh"

echo "== reference mode: keys in, rows out, changes written back"
cp "$wf/credit.toml" "$tmp/credit.toml"
sqlite3 "$tmp/bank.db" "CREATE TABLE accounts (id INTEGER PRIMARY KEY, owner TEXT, balance INTEGER, version INTEGER);
                       INSERT INTO accounts VALUES (1, 'ada', 100, 1), (2, 'bob', 50, 4);"
printf '{"id": 1}\n{"id": 2}\n{"id": 9}\n{"id": 1}\n' >"$tmp/keys.jsonl"
expect_exit 0 "$statenet" run "$tmp/credit.toml" -i "$tmp/keys.jsonl" -o "$tmp/rows.jsonl"
expect_file "$tmp/rows.jsonl" '{"id":1,"owner":"ada","balance":110,"version":2}
{"id":2,"owner":"bob","balance":60,"version":5}
{"id":1,"owner":"ada","balance":120,"version":3}'
expect_match "$tmp/err" '4 records: 3 emitted, 1 excluded, 0 failed'
sqlite3 "$tmp/bank.db" "SELECT id, balance, version FROM accounts ORDER BY id" >"$tmp/table"
expect_file "$tmp/table" '1|120|3
2|60|5'

expect_exit 0 "$statenet" run "$tmp/credit.toml" --data '{"id": 2}'
expect_contains "$tmp/out" '"balance": 70'
expect_exit 1 "$statenet" run "$tmp/credit.toml" --data '{"name": "ada"}'
expect_contains "$tmp/out" "a reference-mode record needs its key field 'id'"

echo "== batch transactions: a failing record rolls back alone"
cat >"$tmp/load.toml" <<'TOML'
name = "load"
[transaction]
strategy = "batch"
batch_size = 100
[resources.out]
type = "sqlite"
path = "items.db"
[networks.main.states.save]
start = true
end = true
resources = ["out"]
transform = { lua = "ctx.resources.out.insert('items', { id = data.id }); if data.id % 37 == 0 then error('bad record ' .. data.id) end" }
TOML
sqlite3 "$tmp/items.db" "CREATE TABLE items (id INTEGER PRIMARY KEY)"
seq 1 250 | sed 's/.*/{"id": &}/' >"$tmp/items.jsonl"
expect_exit 1 "$statenet" run "$tmp/load.toml" -i "$tmp/items.jsonl" -o "$tmp/items.out" --errors "$tmp/items.err"
expect_match "$tmp/err" '250 records: 244 emitted, 0 excluded, 6 failed'
sqlite3 "$tmp/items.db" "SELECT count(*), sum(id % 37 = 0) FROM items" >"$tmp/count"
expect_file "$tmp/count" '244|0'
expect_contains "$tmp/items.err" 'bad record 74'

cli_done
