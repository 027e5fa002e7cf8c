#!/usr/bin/env bash
# std:etl's full_refresh and incremental modes and its workers param, end to end through
# the CLI on real SQLite files: a refresh replaces the table at once and a killed one
# leaves the old table whole; an incremental run reads only the rows above the stored
# watermark; a run on two workers writes what a run on one writes.
# Usage: tests/patterns_etl_modes_test.sh STATENET_BINARY SOURCE_ROOT
set -euo pipefail

statenet=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
source "$(dirname "$0")/cli_lib.sh"
cd "$tmp"

q() { sqlite3 "$1" "$2" 2>/dev/null || echo "(no such table)"; }
etl() { expect_exit "$1" "$statenet" run std:etl --data '{}' --param source=src.db --param target=dst.db "${@:2}"; }
# expect_q DB SQL WANT: the query's output is exactly WANT.
expect_q() {
    checks=$((checks + 1))
    local got
    got=$(q "$1" "$2")
    [[ $got == "$3" ]] || fail "$2 on $1: got '${got:0:200}', wanted '$3'"
}

echo "== full_refresh: the table is replaced by the query's rows, its old rows and columns gone"
sqlite3 src.db "CREATE TABLE p (id INTEGER PRIMARY KEY, name TEXT); INSERT INTO p VALUES (1,'a'),(2,'b'),(3,'c');"
sqlite3 dst.db "CREATE TABLE p (id INTEGER, name TEXT, old TEXT); INSERT INTO p VALUES (9,'stale','x');"
etl 0 --param query='SELECT * FROM p ORDER BY id' --param table=p --param mode=full_refresh
expect_contains "$tmp/out" '"mode": "full_refresh"'
expect_contains "$tmp/out" '"read": 3'
expect_contains "$tmp/out" '"written": 3'
expect_q dst.db "SELECT group_concat(id || name, ',') FROM p" "1a,2b,3c"
expect_q dst.db "SELECT count(*) FROM pragma_table_info('p') WHERE name = 'old'" "0"
expect_q dst.db "SELECT count(*) FROM sqlite_master WHERE name LIKE '%staging%'" "0"
echo "== full_refresh with a key, twice; then a query with no rows empties the table"
etl 0 --param query='SELECT * FROM p ORDER BY id' --param table=p --param mode=full_refresh --param key=id
etl 0 --param query='SELECT * FROM p ORDER BY id' --param table=p --param mode=full_refresh --param key=id
expect_q dst.db "SELECT count(*) FROM p" "3"
etl 0 --param query='SELECT * FROM p WHERE id > 100' --param table=p --param mode=full_refresh
expect_contains "$tmp/out" '"read": 0'
expect_q dst.db "SELECT count(*) FROM p" "0"

echo "== full_refresh killed part-way leaves the old table whole; --resume finishes the load"
sqlite3 big.db "CREATE TABLE rows (id INTEGER PRIMARY KEY, v INTEGER);
  WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 60000) INSERT INTO rows SELECT i, i * 3 FROM n;"
sqlite3 out.db "CREATE TABLE copy (id INTEGER, v INTEGER); INSERT INTO copy VALUES (1, 1), (2, 2);"
refresh=(run std:etl --data '{}' --param source=big.db --param target=out.db --param mode=full_refresh
    --param query='SELECT * FROM rows ORDER BY id' --param table=copy --param batch_size=500)
refresh() { "$statenet" "${refresh[@]}" "$@"; }
# Started directly (not through the function), so that $! is statenet's own pid.
"$statenet" "${refresh[@]}" --resume >big.result 2>&1 &
pid=$!
staged() { q out.db "SELECT count(*) FROM copy_statenet_staging" | grep -E '^[0-9]+$' || echo 0; }
while kill -0 "$pid" 2>/dev/null && (($(staged) < 5000)); do sleep 0.005; done
checks=$((checks + 1))
kill -9 "$pid" 2>/dev/null || fail "the refresh finished before it could be killed"
wait "$pid" 2>/dev/null || true
before=$(staged)
checks=$((checks + 1))
((before > 0 && before < 60000)) || fail "killed with $before rows staged"
expect_q out.db "SELECT group_concat(id || ':' || v, ',') FROM copy" "1:1,2:2"
expect_exit 0 refresh --resume
expect_contains "$tmp/out" '"read": 60000'
expect_match "$tmp/out" '"resumed": [1-9]'
expect_q out.db "SELECT count(*), count(DISTINCT id), sum(v) FROM copy" "60000|60000|5400090000"
expect_q out.db "SELECT count(*) FROM sqlite_master WHERE name = 'copy_statenet_staging'" "0"
echo "killed at $before rows staged, the old table kept; resumed to 60000 exactly once"
echo "== a finished refresh leaves no checkpoint: the next --resume run loads again"
expect_exit 0 refresh --resume
expect_contains "$tmp/out" '"resumed": 0'
expect_q out.db "SELECT count(*) FROM copy" "60000"

echo "== incremental: a run picks up only the rows above the stored watermark"
sqlite3 src.db "CREATE TABLE ev (id INTEGER PRIMARY KEY, v TEXT, ts INTEGER);
  INSERT INTO ev VALUES (1,'a',10),(2,'b',20),(3,'c',30);"
inc() { etl "$1" --param query='SELECT * FROM ev ORDER BY ts' --param table=ev --param mode=incremental \
    --param watermark=ts "${@:2}"; }
inc 0 --param key=id
expect_contains "$tmp/out" '"mode": "incremental"'
expect_contains "$tmp/out" '"read": 3'
expect_contains "$tmp/out" '"written": 3'
expect_contains "$tmp/out" '"rejected": 0'
expect_contains "$tmp/out" '"watermark": 30'
expect_q dst.db "SELECT watermark, pending IS NULL FROM statenet_watermarks WHERE target = 'ev'" "30|1"
sqlite3 src.db "INSERT INTO ev VALUES (4,'d',40),(5,'e',50); UPDATE ev SET v = 'changed' WHERE id = 1;"
inc 0 --param key=id
expect_contains "$tmp/out" '"read": 2'
expect_contains "$tmp/out" '"written": 2'
expect_contains "$tmp/out" '"watermark": 50'
expect_q dst.db "SELECT group_concat(id || v, ',') FROM (SELECT * FROM ev ORDER BY id)" "1a,2b,3c,4d,5e"
inc 0 --param key=id
expect_contains "$tmp/out" '"read": 0'
expect_contains "$tmp/out" '"watermark": 50'
echo "== incremental: a rejected row is reported; text watermarks work too"
sqlite3 src.db "CREATE TABLE logs (id INTEGER PRIMARY KEY, at TEXT, n INTEGER);
  INSERT INTO logs VALUES (1,'2026-01-01T10:00',1),(2,'2026-01-02T10:00',NULL),(3,'2026-01-03T10:00',3);"
cat >rows.lua <<'LUA'
local M = {}
function M.checked(data)
  if data.n == nil or data.n == statenet.null then error({ name = "ValidationFailed", message = "log " .. data.id .. " has no n" }) end
end
return M
LUA
etl 0 --param query='SELECT * FROM logs ORDER BY at' --param table=logs --param mode=incremental --param watermark=at \
    --param transform=rows.checked --param errors=logs-rejected.jsonl
expect_contains "$tmp/out" '"read": 3'
expect_contains "$tmp/out" '"written": 2'
expect_contains "$tmp/out" '"rejected": 1'
expect_contains "$tmp/out" '"watermark": "2026-01-03T10:00"'
expect_contains logs-rejected.jsonl 'log 2 has no n'

echo "== incremental killed and resumed: the window is the interrupted run's; later rows wait"
sqlite3 big.db "ALTER TABLE rows ADD COLUMN ts INTEGER; UPDATE rows SET ts = id;"
incbig=(run std:etl --data '{}' --resume --param source=big.db --param target=inc.db --param mode=incremental
    --param watermark=ts --param query='SELECT id, v, ts FROM rows ORDER BY ts' --param table=copy --param batch_size=500)
incbig() { "$statenet" "${incbig[@]}"; }
"$statenet" "${incbig[@]}" >inc.result 2>&1 &
pid=$!
copied() { q inc.db "SELECT count(*) FROM copy" | grep -E '^[0-9]+$' || echo 0; }
while kill -0 "$pid" 2>/dev/null && (($(copied) < 5000)); do sleep 0.005; done
checks=$((checks + 1))
kill -9 "$pid" 2>/dev/null || fail "the incremental run finished before it could be killed"
wait "$pid" 2>/dev/null || true
expect_q inc.db "SELECT watermark IS NULL, pending FROM statenet_watermarks" "1|60000"
sqlite3 big.db "INSERT INTO rows VALUES (60001, 1, 60001), (60002, 2, 60002);"
expect_exit 0 incbig
expect_contains "$tmp/out" '"read": 60000'
expect_contains "$tmp/out" '"watermark": 60000'
expect_q inc.db "SELECT count(*), count(DISTINCT id) FROM copy" "60000|60000"
expect_exit 0 incbig
expect_contains "$tmp/out" '"read": 2'
expect_contains "$tmp/out" '"watermark": 60002'
expect_q inc.db "SELECT count(*), count(DISTINCT id), max(id) FROM copy" "60002|60002|60002"

echo "== workers: two threads write exactly what one writes, in source order"
cat >shape.lua <<'LUA'
local M = {}
function M.shape(data)
  if data.v % 7 == 0 then error({ name = "ValidationFailed", message = "row " .. data.id .. " is a multiple of 7" }) end
  return { id = data.id, v = data.v, label = string.rep("x", data.id % 5) .. tostring(data.v * 2) }
end
function M.odd(data) return data.id % 2 == 1 end
return M
LUA
for j in 1 2; do
    expect_exit 0 "$statenet" run std:etl --data '{}' --param source=big.db --param target="w$j.db" --param table=t \
        --param query='SELECT id, v FROM rows WHERE id <= 20000 ORDER BY id' --param transform=shape.shape \
        --param filter=shape.odd --param errors="w$j-rejected.jsonl" --param workers=$j
    cp "$tmp/out" "w$j.result"
done
expect_contains w2.result '"written": 8571'
expect_contains w2.result '"rejected": 2857'
checks=$((checks + 1))
[[ $(sqlite3 w1.db "SELECT rowid, * FROM t") == "$(sqlite3 w2.db "SELECT rowid, * FROM t")" ]] ||
    fail "the rows written by 2 workers differ from those written by 1"
checks=$((checks + 1))
cmp -s w1-rejected.jsonl w2-rejected.jsonl || fail "the rejected rows of 2 workers differ from those of 1"
checks=$((checks + 1))
report() { sed -n '/"report"/,/}/p' "$1"; }
[[ -n $(report w1.result) && $(report w1.result) == "$(report w2.result)" ]] || fail "the run reports differ"

echo "== workers: the rows really are shared out (each Lua VM counts the rows it ran)"
# Each row takes a while, so that the two threads' shares of a chunk overlap in time and
# need two VMs (an idle VM is reused, so quick rows might all run on one).
cat >vm.lua <<'LUA'
local M = {}
local ran = 0
function M.count(data)
  local x = 0
  for i = 1, 200000 do x = (x + i) % 7919 end
  ran = ran + 1
  data.ran, data.x = ran, x
end
return M
LUA
for j in 1 2; do
    expect_exit 0 "$statenet" run std:etl --data '{}' --param source=big.db --param target="vm$j.db" --param table=t \
        --param query='SELECT id FROM rows WHERE id <= 400 ORDER BY id' --param transform=vm.count --param workers=$j
done
expect_q vm1.db "SELECT count(*), max(ran) FROM t" "400|400"
checks=$((checks + 1))
(($(sqlite3 vm2.db "SELECT max(ran) FROM t") < 400)) || fail "2 workers: one VM ran all 400 rows"

echo "== bad combinations are load errors (exit 2)"
etl 2 --param query='SELECT * FROM ev' --param table=x --param mode=incremental
expect_contains "$tmp/err" "etl mode 'incremental' needs the watermark param"
etl 2 --param query='SELECT * FROM ev' --param table=x --param watermark=ts
expect_contains "$tmp/err" "the watermark param is for etl mode 'incremental', not 'append'"
etl 2 --param query='SELECT * FROM ev' --param table=x --param mode=sideways
expect_contains "$tmp/err" "unknown etl mode 'sideways'"
etl 2 --param query='SELECT * FROM ev' --param table=x --param source_type=mysql
expect_contains "$tmp/err" "etl source_type 'mysql' is not sqlite or postgres"
etl 2 --param query='SELECT * FROM ev' --param table=x --param mode=incremental --param watermark='ts; DROP'
expect_contains "$tmp/err" "'watermark' must be a column name"
etl 2 --param query='SELECT * FROM ev' --param table=x --param workers=0
expect_contains "$tmp/err" "workers"

cli_done
