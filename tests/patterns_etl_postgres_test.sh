#!/usr/bin/env bash
# std:etl with PostgreSQL on either side, on a throwaway cluster (tests/pg_cluster.sh):
# PostgreSQL -> SQLite and SQLite -> PostgreSQL in the upsert, full_refresh and incremental
# modes. Fails, never skips, when the cluster cannot start.
# Usage: tests/patterns_etl_postgres_test.sh STATENET_BINARY SOURCE_ROOT
set -euo pipefail

statenet=$1
root=$2
tmp=$(mktemp -d)
pgdir=$(mktemp -d /tmp/statenet-pg.XXXXXX)
trap '"$root/tests/pg_cluster.sh" stop "$pgdir"; rm -rf "$tmp"' EXIT
source "$(dirname "$0")/cli_lib.sh"
cd "$tmp"

dsn=$("$root/tests/pg_cluster.sh" start "$pgdir")
sql() { psql "$dsn" -X -q -A -t -v ON_ERROR_STOP=1 -c "$1"; }
expect_same() {
    checks=$((checks + 1))
    [[ $2 == "$3" ]] || fail "$1: got '$2', wanted '$3'"
}

echo "== PostgreSQL -> SQLite, incremental on a timestamp column"
sql "CREATE TABLE ev (id int PRIMARY KEY, v text, at timestamp);
     INSERT INTO ev VALUES (1, 'a', '2026-01-01 10:00'), (2, 'b', '2026-01-02 10:00');"
from_pg() { expect_exit "$1" "$statenet" run std:etl --data '{}' --param source_type=postgres --param source="$dsn" \
    --param target=dst.db "${@:2}"; }
from_pg 0 --param query='SELECT id, v, at FROM ev ORDER BY at' --param table=ev --param mode=incremental \
    --param watermark=at --param key=id
expect_contains "$tmp/out" '"read": 2'
expect_contains "$tmp/out" '"watermark": "2026-01-02 10:00:00"'
sql "INSERT INTO ev VALUES (3, 'c', '2026-01-03 10:00'); UPDATE ev SET v = 'old change' WHERE id = 1;"
from_pg 0 --param query='SELECT id, v, at FROM ev ORDER BY at' --param table=ev --param mode=incremental \
    --param watermark=at --param key=id
expect_contains "$tmp/out" '"read": 1'
expect_contains "$tmp/out" '"written": 1'
expect_contains "$tmp/out" '"watermark": "2026-01-03 10:00:00"'
expect_same "sqlite rows" "$(sqlite3 dst.db "SELECT group_concat(id || v, ',') FROM (SELECT * FROM ev ORDER BY id)")" "1a,2b,3c"

echo "== PostgreSQL -> SQLite, upsert and full_refresh"
from_pg 0 --param query='SELECT id, v FROM ev ORDER BY id' --param table=up --param mode=upsert --param key=id
from_pg 0 --param query='SELECT id, v FROM ev ORDER BY id' --param table=up --param mode=upsert --param key=id
expect_same "upsert twice" "$(sqlite3 dst.db "SELECT count(*) FROM up")" "3"
from_pg 0 --param query='SELECT id, v FROM ev WHERE id > 1 ORDER BY id' --param table=up --param mode=full_refresh
expect_same "refreshed" "$(sqlite3 dst.db "SELECT group_concat(id, ',') FROM up")" "2,3"

echo "== SQLite -> PostgreSQL, full_refresh twice with a key: the table replaced in one transaction"
sqlite3 src.db "CREATE TABLE p (id INTEGER PRIMARY KEY, name TEXT, price REAL, ts INTEGER);
  INSERT INTO p VALUES (1,'tea',4.5,10),(2,'coffee',9.0,20),(3,'cocoa',3.25,30);"
sql "CREATE TABLE products (id int, stale text); INSERT INTO products VALUES (99, 'x');"
to_pg() { expect_exit "$1" "$statenet" run std:etl --data '{}' --param source=src.db --param target_type=postgres \
    --param target="$dsn" "${@:2}"; }
to_pg 0 --param query='SELECT id, name, price FROM p ORDER BY id' --param table=products --param mode=full_refresh --param key=id
expect_contains "$tmp/out" '"written": 3'
expect_same "postgres rows" "$(sql "SELECT string_agg(id || name || price, ',' ORDER BY id) FROM products")" "1tea4.5,2coffee9,3cocoa3.25"
expect_same "old column gone" "$(sql "SELECT count(*) FROM information_schema.columns WHERE table_name = 'products' AND column_name = 'stale'")" "0"
to_pg 0 --param query='SELECT id, name, price FROM p WHERE id < 3 ORDER BY id' --param table=products --param mode=full_refresh --param key=id
expect_same "second refresh" "$(sql "SELECT string_agg(id::text, ',' ORDER BY id) FROM products")" "1,2"
expect_same "no staging table" "$(sql "SELECT count(*) FROM pg_tables WHERE tablename LIKE '%staging%'")" "0"

echo "== SQLite -> PostgreSQL, incremental: the watermark kept in the PostgreSQL database"
to_pg 0 --param query='SELECT * FROM p ORDER BY ts' --param table=prices --param mode=incremental --param watermark=ts --param key=id
expect_contains "$tmp/out" '"read": 3'
expect_contains "$tmp/out" '"watermark": 30'
sqlite3 src.db "INSERT INTO p VALUES (4,'mate',7.0,40);"
to_pg 0 --param query='SELECT * FROM p ORDER BY ts' --param table=prices --param mode=incremental --param watermark=ts --param key=id
expect_contains "$tmp/out" '"read": 1'
expect_contains "$tmp/out" '"written": 1'
expect_same "watermark row" "$(sql "SELECT watermark FROM statenet_watermarks WHERE target = 'prices'")" "40"
expect_same "postgres rows" "$(sql "SELECT count(*) FROM prices")" "4"

echo "== a PostgreSQL source that cannot be reached fails the run with a ResourceError"
expect_exit 1 "$statenet" run std:etl --data '{}' --param source_type=postgres --param source="host=$pgdir port=1 dbname=x" \
    --param target=dst.db --param query='SELECT 1 AS id' --param table=none
expect_contains "$tmp/out" 'ResourceError'

cli_done
