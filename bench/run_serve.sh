#!/usr/bin/env bash
# `statenet machine serve` under load: 32 concurrent HTTP clients (keep-alive) sending
# keyed toggle events to 1,000 instances. Prints events/s and latency percentiles, as a
# ratio against the same keyed events sent in process (Machines::send, one transaction
# each: the baseline, measured in the same run). Then kills the server with -9 in the
# middle of a run, restarts it, lets the clients retry every event with its key, and
# checks from the audit log (sqlite3 on the store) that every acknowledged event was
# applied exactly once.
#
#   bench/run_serve.sh [EVENTS]      (default 20000)
#
# Environment: BUILD (default: build), CLIENTS (32), INSTANCES (1000).
set -euo pipefail

EVENTS=${1:-20000}
CLIENTS=${CLIENTS:-32}
INSTANCES=${INSTANCES:-1000}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-$ROOT/build}
OUT=$ROOT/bench/out/serve
STATENET=$BUILD/src/cli/statenet
LOAD=$BUILD/bench/serve_load
WORKFLOW=$ROOT/bench/machines/toggle.toml

die() { echo "run_serve: $*" >&2; exit 1; }
command -v sqlite3 >/dev/null || die "sqlite3 not found"
ninja -C "$BUILD" >/dev/null || die "build failed"
rm -rf "$OUT"
mkdir -p "$OUT"

server=
trap '[ -n "$server" ] && kill -9 "$server" 2>/dev/null; true' EXIT
# serve DB LOG: starts the server on a free port; sets $server and $base.
serve() {
  "$STATENET" machine serve --store "$1" "$WORKFLOW" --listen 127.0.0.1:0 >"$2.out" 2>"$2.err" &
  server=$!
  for _ in $(seq 200); do [ -s "$2.out" ] && break; sleep 0.05; done
  base=$(head -n1 "$2.out")
  [[ $base == http://* ]] || die "the server did not start: $(cat "$2.err")"
}
value() { awk -v k="$1" '$1 == k { print $2 }' "$2"; }
sql() { sqlite3 "$1" "$2"; }

echo "serve: $CLIENTS clients, $INSTANCES instances, $EVENTS events with an idempotency key each"
"$LOAD" direct "$OUT/direct.db" "$INSTANCES" "$EVENTS" >"$OUT/direct.txt"

serve "$OUT/clean.db" "$OUT/clean"
"$LOAD" http "$base" "$CLIENTS" "$INSTANCES" "$EVENTS" "$OUT/clean.acked" >"$OUT/clean.txt"
kill -TERM "$server"; wait "$server" || die "serve did not exit 0 on SIGTERM"; server=

printf '  %-34s %8s events/s   p50 %6s ms   p99 %6s ms\n' "in process (Machines::send):" \
  "$(value events_per_s "$OUT/direct.txt")" "$(value latency_p50_ms "$OUT/direct.txt")" "$(value latency_p99_ms "$OUT/direct.txt")"
printf '  %-34s %8s events/s   p50 %6s ms   p99 %6s ms\n' "HTTP, $CLIENTS clients:" \
  "$(value events_per_s "$OUT/clean.txt")" "$(value latency_p50_ms "$OUT/clean.txt")" "$(value latency_p99_ms "$OUT/clean.txt")"
awk -v a="$(value events_per_s "$OUT/clean.txt")" -v b="$(value events_per_s "$OUT/direct.txt")" \
  'BEGIN { printf "  %-34s %8.2fx\n", "HTTP / in process:", a / b }'

# kill -9 in the middle, restart, retry everything with the same keys.
serve "$OUT/crash.db" "$OUT/crash"
"$LOAD" http "$base" "$CLIENTS" "$INSTANCES" "$EVENTS" "$OUT/crash1.acked" >"$OUT/crash1.txt" 2>"$OUT/crash1.err" &
load=$!
for _ in $(seq 400); do
  applied=$(sql "$OUT/crash.db" "SELECT count(*) FROM statenet_audit WHERE event = 'toggle'" 2>/dev/null || echo 0)
  [ "${applied:-0}" -ge $((EVENTS / 2)) ] && break
  sleep 0.05
done
kill -9 "$server"; wait "$server" 2>/dev/null || true; server=
wait "$load"
serve "$OUT/crash.db" "$OUT/crash2"
"$LOAD" http "$base" "$CLIENTS" "$INSTANCES" "$EVENTS" "$OUT/crash2.acked" >"$OUT/crash2.txt"
kill -TERM "$server"; wait "$server" || die "serve did not exit 0 on SIGTERM"; server=

# Every event acknowledged before the kill, and after it, is applied exactly once.
sqlite3 "$OUT/check.db" <<SQL
CREATE TABLE acked(key TEXT, instance TEXT);
.separator " "
.import $OUT/crash1.acked acked
.import $OUT/crash2.acked acked
SQL
missing=$(sqlite3 "$OUT/check.db" "ATTACH '$OUT/crash.db' AS s;
  SELECT count(*) FROM (SELECT DISTINCT key, instance FROM acked) a WHERE (SELECT count(*) FROM s.statenet_audit t
    WHERE t.key = a.key AND t.instance = a.instance AND t.outcome = 'applied') != 1;")
doubled=$(sql "$OUT/crash.db" "SELECT count(*) FROM (SELECT 1 FROM statenet_audit WHERE key != ''
  GROUP BY instance, key HAVING count(*) > 1)")
applied=$(sql "$OUT/crash.db" "SELECT count(*) FROM statenet_audit WHERE event = 'toggle' AND outcome = 'applied'")
counted=$(sql "$OUT/crash.db" "SELECT sum(json_extract(data, '$.count')) FROM statenet_instances")
before=$(value acknowledged "$OUT/crash1.txt")
after=$(value acknowledged "$OUT/crash2.txt")
echo "  kill -9 after $before acknowledged events; restarted; the clients retried all $EVENTS with their keys ($after acknowledged)"
echo "    acknowledged but not applied exactly once: $missing; keys applied twice: $doubled"
echo "    applied toggles in the audit log: $applied (expected $EVENTS); sum of the instances' counts: $counted"
[ "$missing" -eq 0 ] && [ "$doubled" -eq 0 ] && [ "$applied" -eq "$EVENTS" ] && [ "$counted" -eq "$EVENTS" ] ||
  die "EXACTLY-ONCE CHECK FAILED"
echo "  exactly once: OK"
