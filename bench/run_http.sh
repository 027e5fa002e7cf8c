#!/usr/bin/env bash
# HTTP resource benchmark against the local fake API server (tests/servers, 127.0.0.1):
# 1. per-call time of `ctx.resources.api:get` with pooled keep-alive connections and
#    with a new connection per call (keep_alive = false), in the same run: how much
#    lower the pooled per-call overhead is (target: >= 50% lower);
# 2. a stream whose every record waits 50 ms on the server, on 1 worker with
#    --in-flight 64 (and 1 for contrast): records/s as a ratio to the ideal 64 / 0.05 s
#    (target: >= 0.8).
#
#   bench/run_http.sh [N [M]]   N calls per run (default 20000), M streamed records (default 2000)
#
# Environment: BUILD (default: build), RUNS (best of, default 3). The server answers at
# once, so a call's time is its overhead: client, loopback TCP (and, without
# keep-alive, the connect and close) and the server's parsing. Process start-up and
# loading are measured with N = 0 and subtracted.
set -euo pipefail

N=${1:-20000}
M=${2:-2000}
RUNS=${RUNS:-3}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-$ROOT/build}
OUT=$ROOT/bench/out
LOG=$OUT/run_http.log
STATENET=$BUILD/src/cli/statenet
SERVER=$BUILD/tests/fake_api_server

die() { echo "run_http: $*" >&2; exit 1; }
[ -x "$STATENET" ] && [ -x "$SERVER" ] || die "build first: ninja -C $BUILD"
mkdir -p "$OUT"
: >"$LOG"
source "$ROOT/bench/bench_lib.sh"

tmp=$(mktemp -d)
export no_proxy=127.0.0.1  # a proxy from the environment must not see the local traffic
server_pid=
cleanup() {
  local rc=$?
  if [ -n "$server_pid" ]; then
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  rm -rf "$tmp"
  exit "$rc"
}
trap cleanup EXIT
"$SERVER" >"$tmp/port" &
server_pid=$!
for _ in $(seq 100); do [ -s "$tmp/port" ] && break; sleep 0.05; done
port=$(head -1 "$tmp/port")
[[ $port =~ ^[0-9]+$ ]] || die "fake_api_server did not start"

workflow() {  # workflow FILE KEEP_ALIVE
  cat >"$1" <<TOML
name = "bench-http"
[resources.api]
type = "http"
base_url = "http://127.0.0.1:$port"
keep_alive = $2
[networks.main.states.call]
start = true
end = true
transform = { lua = "for i = 1, data.n do ctx.resources.api:get('/items/1') end" }
TOML
}
workflow "$tmp/pooled.toml" true
workflow "$tmp/fresh.toml" false

best_of startup "$STATENET" run "$tmp/pooled.toml" --data '{"n":0}' -o /dev/null
best_of pooled "$STATENET" run "$tmp/pooled.toml" --data "{\"n\":$N}" -o /dev/null
best_of fresh "$STATENET" run "$tmp/fresh.toml" --data "{\"n\":$N}" -o /dev/null

awk -v n="$N" -v s="${WALL[startup]}" -v p="${WALL[pooled]}" -v f="${WALL[fresh]}" 'BEGIN {
  pc = (p - s) / n * 1e6; fc = (f - s) / n * 1e6
  printf "calls per run                    %d (best of runs, start-up %.3f s subtracted)\n", n, s
  printf "keep-alive (pooled) per call     %8.1f us\n", pc
  printf "new connection per call          %8.1f us\n", fc
  lower = (fc > 0) ? 100 * (1 - pc / fc) : 0
  printf "pooled per-call overhead         %6.1f%% lower   target >= 50%%   %s\n", lower, (lower >= 50 ? "MET" : "MISSED")
}'

cat >"$tmp/slow.toml" <<TOML
name = "bench-http-in-flight"
[resources.api]
type = "http"
base_url = "http://127.0.0.1:$port"
[networks.main.states.call]
start = true
end = true
transform = { lua = "data.slept = ctx.resources.api:get('/delay/50').json.slept" }
TOML
seq 1 "$M" | sed 's/.*/{"n":&}/' >"$tmp/records.jsonl"
head -40 "$tmp/records.jsonl" >"$tmp/forty.jsonl"
best_of in_flight_64 "$STATENET" run "$tmp/slow.toml" -i "$tmp/records.jsonl" -o /dev/null -j 1 --in-flight 64 -q
best_of in_flight_1 "$STATENET" run "$tmp/slow.toml" -i "$tmp/forty.jsonl" -o /dev/null -j 1 --in-flight 1 -q
awk -v m="$M" -v w="${WALL[in_flight_64]}" -v w1="${WALL[in_flight_1]}" 'BEGIN {
  r = m / w; r1 = 40 / w1; ideal = 64 / 0.05
  printf "50 ms server, 1 worker, in_flight 64  %8.0f records/s  = %.2f x ideal %.0f/s   target >= 0.8   %s\n", r, r / ideal, ideal, (r / ideal >= 0.8 ? "MET" : "MISSED")
  printf "50 ms server, 1 worker, in_flight 1   %8.0f records/s  (ideal 20/s)\n", r1
}'
