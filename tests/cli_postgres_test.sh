#!/usr/bin/env bash
# End-to-end tests of PostgreSQL as a stream source (--query) and sink (--table, --key,
# --resume) through the statenet command, on a throwaway cluster (tests/pg_cluster.sh).
# Fails, never skips, when the cluster cannot start.
# Usage: tests/cli_postgres_test.sh STATENET_BINARY SOURCE_ROOT
set -euo pipefail

statenet=$1
root=$2
tmp=$(mktemp -d)
pgdir=$(mktemp -d /tmp/statenet-pg.XXXXXX)
trap '"$root/tests/pg_cluster.sh" stop "$pgdir"; rm -rf "$tmp"' EXIT
source "$(dirname "$0")/cli_lib.sh"

dsn=$("$root/tests/pg_cluster.sh" start "$pgdir")
sql() { psql "$dsn" -X -q -A -t -v ON_ERROR_STOP=1 -c "$1"; }

cat >"$tmp/wf.toml" <<'TOML'
name = "pgcli"
[networks.main.states.check]
start = true
end = true
validate = { lua = "if data.id == 3 then return false, 'id 3 is refused' end return true" }
transform = { lua = "data.seen = true" }
TOML

echo "== source: the rows of a query, typed"
sql "CREATE TABLE src (id int PRIMARY KEY, name text, price numeric(6,2), tags jsonb, ok boolean);
     INSERT INTO src VALUES (1, 'ada', 1.50, '[\"a\"]', true), (2, 'bob', NULL, '{}', false), (3, 'cy', 2, NULL, NULL);"
expect_exit 1 "$statenet" run "$tmp/wf.toml" -i "postgres:$dsn" --query 'SELECT * FROM src ORDER BY id' -o "$tmp/out.jsonl"
expect_file "$tmp/out.jsonl" '{"id":1,"name":"ada","price":1.5,"tags":["a"],"ok":true,"seen":true}
{"id":2,"name":"bob","price":null,"tags":{},"ok":false,"seen":true}'
expect_match "$tmp/err" "$(summary_re 3 2 0 1)"

expect_exit 2 "$statenet" run "$tmp/wf.toml" -i "postgres:$dsn" --query 'SELECT * FROM nowhere' -o "$tmp/x.jsonl"
expect_contains "$tmp/err" 'relation "nowhere" does not exist'
expect_exit 2 "$statenet" run "$tmp/wf.toml" -i "postgres:$dsn" --query 'SELECT 1 AS id; DROP TABLE src' -o "$tmp/x.jsonl"
expect_contains "$tmp/err" 'cannot insert multiple commands'
expect_exit 2 "$statenet" run "$tmp/wf.toml" -i "postgres:$dsn" -o "$tmp/x.jsonl"
expect_contains "$tmp/err" '-i postgres:... needs --query'
expect_exit 2 "$statenet" run "$tmp/wf.toml" -i "postgres:host=$tmp/none port=1 dbname=x password=hunter2" \
    --query 'SELECT 1' -o "$tmp/x.jsonl"
expect_contains "$tmp/err" 'cannot open input'
expect_absent "$tmp/err" 'hunter2'
[[ $(sql "SELECT count(*) FROM src") == 3 ]] || fail "the source table changed"

echo "== sink: a table created from the records, then upserts by key"
printf '%s\n' '{"id": 1, "name": "ada", "score": 1.5, "meta": {"k": 1}}' '{"id": 2, "name": "bob", "score": 2}' \
    '{"id": 3, "name": "cy"}' '{"id": 4, "name": "dee", "extra": true}' >"$tmp/in.jsonl"
expect_exit 1 "$statenet" run "$tmp/wf.toml" -i "$tmp/in.jsonl" -o "postgres:$dsn" --table people --key id
expect_match "$tmp/err" "$(summary_re 4 3 0 1)"
sql "SELECT id, name, score, meta, seen, extra FROM people ORDER BY id" >"$tmp/table"
expect_file "$tmp/table" '1|ada|1.5|{"k": 1}|t|
2|bob|2||t|
4|dee|||t|t'
sql "SELECT format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = 'people'::regclass AND attname IN ('id', 'score', 'meta', 'seen') ORDER BY attnum" >"$tmp/types"
expect_file "$tmp/types" 'bigint
double precision
jsonb
boolean'
printf '%s\n' '{"id": 2, "name": "bobby"}' '{"id": 5, "name": "eve"}' >"$tmp/more.jsonl"
expect_exit 0 "$statenet" run "$tmp/wf.toml" -i "$tmp/more.jsonl" -o "postgres:$dsn" --table people --key id
[[ $(sql "SELECT string_agg(id || '=' || name, ',' ORDER BY id) FROM people") == "1=ada,2=bobby,4=dee,5=eve" ]] ||
    fail "upsert by key: $(sql 'SELECT * FROM people')"
echo '{"id": "not a number", "name": "x"}' >"$tmp/bad.jsonl"
expect_exit 1 "$statenet" run "$tmp/wf.toml" -i "$tmp/bad.jsonl" -o "postgres:$dsn" --table people --key id
expect_contains "$tmp/err" 'invalid input syntax for type bigint'
expect_exit 2 "$statenet" run "$tmp/wf.toml" -i "$tmp/in.jsonl" -o "postgres:$dsn"
expect_contains "$tmp/err" '-o postgres:... needs --table'

echo "== sink with --resume: killed part-way, resumed, every record exactly once"
awk 'BEGIN { for (i = 1; i <= 30000; i++) print "{\"id\": " i ", \"name\": \"n" i "\"}" }' >"$tmp/big.jsonl"
run_big=("$statenet" run "$tmp/wf.toml" -i "$tmp/big.jsonl" -o "postgres:$dsn" --table big --batch-size 200 -q)
"${run_big[@]}" --resume 2>/dev/null &
pid=$!
while kill -0 "$pid" 2>/dev/null && (($(sql "SELECT count(*) FROM big" 2>/dev/null || echo 0) < 3000)); do sleep 0.01; done
kill -9 "$pid" 2>/dev/null && killed=1 || killed=0
wait "$pid" 2>/dev/null || true
checks=$((checks + 1))
((killed == 1)) || fail "the first run finished before it could be killed"
expect_exit 1 "${run_big[@]}" --resume
[[ $(sql "SELECT count(*), count(DISTINCT id), min(id), max(id) FROM big") == "29999|29999|1|30000" ]] ||
    fail "resumed table: $(sql 'SELECT count(*), count(DISTINCT id), min(id), max(id) FROM big')"
[[ $(sql "SELECT count(*) FROM statenet_checkpoints WHERE sink = 'big'") == 1 ]] || fail "no checkpoint row"

cli_done
