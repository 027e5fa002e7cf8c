#!/usr/bin/env bash
# std:etl end to end through the CLI on real SQLite files: `statenet new etl` and its
# sample, append vs upsert, params that are refused, a run killed with SIGKILL then
# resumed with exact counts, and examples/etl (an upsert with a profile, an incremental
# instance).
# Usage: tests/patterns_etl_test.sh STATENET_BINARY SOURCE_ROOT
set -euo pipefail

statenet=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
die() { echo "FAIL: $*" >&2; exit 1; }
count() { sqlite3 "$1" "SELECT count(*) FROM $2" 2>/dev/null || echo 0; }

echo "== statenet new etl: the project runs on its sample data"
"$statenet" new etl "$tmp/proj" >/dev/null
(cd "$tmp/proj" && sqlite3 shop.db <sample.sql && "$statenet" run etl.toml --data '{}' >result.json 2>stderr) ||
    { cat "$tmp/proj/stderr"; die "the new project did not run"; }
grep -q '"read": 4' "$tmp/proj/result.json" || die "report read"
grep -q '"written": 2' "$tmp/proj/result.json" || die "report written"
grep -q '"excluded": 1' "$tmp/proj/result.json" || die "report excluded"
grep -q '"rejected": 1' "$tmp/proj/result.json" || die "report rejected"
[[ $(sqlite3 "$tmp/proj/warehouse.db" "SELECT group_concat(id || ':' || name || ':' || price, ',') FROM products") == "1:TEA:4.5,4:MATE:7" ]] ||
    die "warehouse rows: $(sqlite3 "$tmp/proj/warehouse.db" 'SELECT * FROM products')"
grep -q 'product 3 has no price' "$tmp/proj/rejected.jsonl" || die "the rejected row and its reason"
if "$statenet" new etl "$tmp/proj" 2>"$tmp/err"; then die "new wrote over a project"; fi
grep -q "is not empty" "$tmp/err" || die "new: the message for an existing directory"

echo "== std:etl from the command line: upsert twice keeps one row per key, append adds"
sqlite3 "$tmp/src.db" "CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT); INSERT INTO t VALUES (1,'a'),(2,'b'),(3,'c');"
run_etl() { (cd "$tmp" && "$statenet" run std:etl --data '{}' --param source=src.db --param target=dst.db \
    --param query='SELECT * FROM t ORDER BY id' "$@"); }
run_etl --param table=up --param mode=upsert --param key=id >/dev/null
run_etl --param table=up --param mode=upsert --param key=id >/dev/null
[[ $(count "$tmp/dst.db" up) == 3 ]] || die "upsert twice: $(count "$tmp/dst.db" up) rows"
run_etl --param table=app >/dev/null
run_etl --param table=app >/dev/null
[[ $(count "$tmp/dst.db" app) == 6 ]] || die "append twice: $(count "$tmp/dst.db" app) rows"

echo "== a key with append and missing params are load errors (exit 2)"
set +e
run_etl --param table=x --param key=id >/dev/null 2>"$tmp/err"
[[ $? == 2 ]] || die "append with a key: exit status"
grep -q "etl mode 'append' takes no key" "$tmp/err" || die "append with a key: $(cat "$tmp/err")"
(cd "$tmp" && "$statenet" run std:etl --data '{}' --param source=src.db) 2>"$tmp/err"
[[ $? == 2 ]] || die "missing params: exit status"
grep -q "param 'target' is required" "$tmp/err" || die "missing params: $(cat "$tmp/err")"
set -e

echo "== a run killed with SIGKILL and resumed writes every row exactly once"
sqlite3 "$tmp/big.db" "CREATE TABLE rows (id INTEGER PRIMARY KEY, v INTEGER);
  WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 60000) INSERT INTO rows SELECT i, i * 3 FROM n;"
big=(run std:etl --data '{}' --resume --param source=big.db --param target=out.db
    --param query='SELECT * FROM rows ORDER BY id' --param table=copy --param batch_size=500)
big() { (cd "$tmp" && "$statenet" "${big[@]}"); }
# Started so that $! is statenet's own pid (a function in the background would be a
# subshell, and killing it would leave statenet running beside the resumed run).
(cd "$tmp" && exec "$statenet" "${big[@]}") >"$tmp/big.result" 2>&1 &
pid=$!
while kill -0 "$pid" 2>/dev/null && (($(count "$tmp/out.db" copy) < 5000)); do sleep 0.005; done
kill -9 "$pid" 2>/dev/null || die "the run finished before it could be killed"
wait "$pid" 2>/dev/null || true
before=$(count "$tmp/out.db" copy)
((before > 0 && before < 60000)) || die "killed with $before rows written"
big >"$tmp/big.result" 2>&1 || { cat "$tmp/big.result"; die "the resumed run failed"; }
grep -q '"read": 60000' "$tmp/big.result" || die "resumed total: $(cat "$tmp/big.result")"
grep -Eq '"resumed": [1-9]' "$tmp/big.result" || die "the resumed run resumed nothing"
[[ $(sqlite3 "$tmp/out.db" "SELECT count(*), count(DISTINCT id), sum(v) FROM copy") == "60000|60000|5400090000" ]] ||
    die "after resume: $(sqlite3 "$tmp/out.db" "SELECT count(*), count(DISTINCT id), sum(v) FROM copy")"
echo "killed at $before rows, resumed to 60000 exactly once"

echo "== examples/etl: an instance file with a profile"
mkdir -p "$tmp/example" && cp "$2"/examples/etl/* "$tmp/example"
(cd "$tmp/example" && sqlite3 crm.db <crm.sql && "$statenet" run customers.toml --data '{}' --profile nightly >result.json) ||
    die "examples/etl did not run"
grep -q '"written": 2' "$tmp/example/result.json" || die "examples/etl: $(cat "$tmp/example/result.json")"
[[ $(sqlite3 "$tmp/example/reporting.db" "SELECT group_concat(email, ',') FROM customers") == "ada@mail.org,ola@mail.no" ]] ||
    die "examples/etl rows"
grep -q 'customer 3 has no e-mail' "$tmp/example/customers-rejected.jsonl" || die "examples/etl: the rejected row"

echo "== examples/etl: an incremental instance reads only the customers added since its last run"
(cd "$tmp/example" && "$statenet" run signups.toml --data '{}' >signups1.json) || die "signups.toml did not run"
grep -q '"read": 4' "$tmp/example/signups1.json" || die "signups, first run: $(cat "$tmp/example/signups1.json")"
sqlite3 "$tmp/example/crm.db" "INSERT INTO customers VALUES (5, 'Kim', 'KIM@mail.kr', 'KR')"
(cd "$tmp/example" && "$statenet" run signups.toml --data '{}' >signups2.json) || die "signups.toml did not run again"
grep -q '"read": 1' "$tmp/example/signups2.json" || die "signups, second run: $(cat "$tmp/example/signups2.json")"
grep -q '"watermark": 5' "$tmp/example/signups2.json" || die "signups, the watermark"
[[ $(sqlite3 "$tmp/example/reporting.db" "SELECT group_concat(email, ',') FROM signups") == "ada@mail.org,ola@mail.no,kim@mail.kr" ]] ||
    die "signups rows: $(sqlite3 "$tmp/example/reporting.db" "SELECT * FROM signups")"
