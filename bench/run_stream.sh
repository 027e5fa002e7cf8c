#!/usr/bin/env bash
# Stream benchmarks (issue 4): worker scaling, flat memory on a huge stdin stream, and
# CSV / gzip input throughput against the I/O floor (cat / zcat of the same file).
#
#   bench/run_stream.sh [N] [GB]    N records for scaling and formats (default 1000000),
#                                   GB gigabytes for the memory run (default 10)
#
# Environment: BUILD (default: build), RUNS (best of, default 3), SKIP (space-separated
# parts to skip: scaling formats memory).
set -euo pipefail

N=${1:-1000000}
GB=${2:-10}
RUNS=${RUNS:-3}
SKIP=${SKIP:-}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-$ROOT/build}
OUT=$ROOT/bench/out
LOG=$OUT/run_stream.log
STATENET=$BUILD/src/cli/statenet
GEN=$BUILD/bench/gen_records
REFERENCE=$ROOT/bench/reference/reference.toml
PASS=$ROOT/bench/reference/passthrough.toml

die() { echo "run_stream: $*" >&2; exit 1; }
skipped() { [[ " $SKIP " == *" $1 "* ]]; }

mkdir -p "$OUT"
ninja -C "$BUILD" >"$OUT/ninja.log" 2>&1 || { cat "$OUT/ninja.log" >&2; die "build failed"; }
for exe in "$STATENET" "$GEN"; do [ -x "$exe" ] || die "$exe is missing"; done
: >"$LOG"

IN=$OUT/records_$N.jsonl
if [ ! -s "$IN" ]; then
  "$GEN" "$N" >"$IN.tmp"
  mv "$IN.tmp" "$IN"
fi
BYTES=$(stat -c %s "$IN")

source "$ROOT/bench/bench_lib.sh"

echo "statenet stream benchmarks: $N records ($(du -h "$IN" | cut -f1)), best of $RUNS, $(nproc) cores"
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"

if ! skipped scaling; then
  best_of j1 "$STATENET" run "$REFERENCE" -i "$IN" -o /dev/null --errors /dev/null -q -j 1
  best_of j2 "$STATENET" run "$REFERENCE" -i "$IN" -o /dev/null --errors /dev/null -q -j 2
  # The machine's own ceiling: two independent -j 1 processes at once. On an idle 2-core
  # machine they take as long as one; on a shared one, what they lose is not statenet's.
  best_of pair bash -c "'$STATENET' run '$REFERENCE' -i '$IN' -o /dev/null --errors /dev/null -q -j 1 &
    '$STATENET' run '$REFERENCE' -i '$IN' -o /dev/null --errors /dev/null -q -j 1; wait"
  echo
  echo "== scaling: reference workload, $N records"
  for j in j1 j2; do
    awk -v n="$N" -v t="${WALL[$j]}" -v c="${CPU[$j]}" -v j="$j" \
      'BEGIN { printf "  -%s %-2s %10.0f records/s  (%.2f s wall, %.2f s CPU)\n", substr(j, 1, 1), substr(j, 2), n / t, t, c }'
  done
  awk -v a="${WALL[j1]}" -v b="${WALL[j2]}" -v p="${WALL[pair]}" -v ca="${CPU[j1]}" -v cb="${CPU[j2]}" "$AWK_VERDICT"'
  BEGIN {
    r = a / b; printf "  -j 2 / -j 1 = %.2f   target >= 1.8   %s\n", r, verdict(r, 1.8)
    printf "  machine ceiling: two -j 1 processes at once do 2 x the work in %.2f s = %.2f x one (2.00 on an idle machine)\n", p, 2 * a / p
    printf "  -j 2 reaches %.0f%% of that ceiling; from CPU seconds, -j 2 could reach %.2f on two free cores\n", 100 * r / (2 * a / p), 2 * ca / cb }'
fi

if ! skipped formats; then
  CSV=$OUT/records_$N.csv
  GZ=$IN.gz
  [ -s "$CSV" ] || "$STATENET" run "$PASS" -i "$IN" -o "$CSV" -q -j 2
  [ -s "$GZ" ] || gzip -c "$IN" >"$GZ"
  best_of floor_plain cat "$IN"
  best_of floor_csv cat "$CSV"
  best_of floor_gzip zcat "$GZ"
  best_of jsonl "$STATENET" run "$PASS" -i "$IN" -o /dev/null -q -j 2
  best_of csv "$STATENET" run "$PASS" -i "$CSV" -o /dev/null -q -j 2
  best_of gzip "$STATENET" run "$PASS" -i "$GZ" -o /dev/null -q -j 2
  echo
  echo "== input formats: pass-through workflow, -j 2, output to /dev/null (MB/s of the file read)"
  row() { # NAME FLOOR FILE
    awk -v t="${WALL[$1]}" -v f="${WALL[$2]}" -v b="$(stat -c %s "$3")" -v n="$N" -v name="$1" -v floor="$2" 'BEGIN {
      printf "  %-6s %8.1f MB/s %9.0f records/s   floor (%s) %8.1f MB/s   statenet / floor = %.3f\n",
             name, b / t / 1e6, n / t, floor, b / f / 1e6, f / t }'
  }
  row jsonl floor_plain "$IN"
  row csv floor_csv "$CSV"
  row gzip floor_gzip "$GZ"
fi

if ! skipped memory; then
  # A stream generated on the fly into stdin: peak RSS of a 100 MB stream and a GB one.
  per_record=$((BYTES / N))
  # peak BYTES [SINK]: "peak_kB seconds" of a BYTES-long stream; SINK is a command that
  # reads statenet's output (default: none, output to /dev/null).
  peak() {
    local n=$(($1 / per_record)) sink=${2:-}
    local pipeline="'$GEN' $n | '$STATENET' run '$PASS' -q -j 2"
    if [ -n "$sink" ]; then pipeline="$pipeline | $sink"; else pipeline="$pipeline -o /dev/null"; fi
    /usr/bin/time -f '%M %e' -o "$OUT/memory.time" bash -c "$pipeline" >>"$LOG" 2>&1 || die "memory run failed"
    cat "$OUT/memory.time"
  }
  read -r small_kb small_s <<<"$(peak 100000000)"
  # A slow consumer (a shell loop reading line by line): the writer blocks, the queues
  # fill, and the reader must stop reading instead of buffering.
  read -r slow_kb slow_s <<<"$(peak 20000000 'while read -r line; do :; done')"
  read -r big_kb big_s <<<"$(peak $((GB * 1000000000)))"
  echo
  echo "== memory: generated JSONL on stdin, pass-through workflow, -j 2"
  awk -v sk="$small_kb" -v ss="$small_s" -v wk="$slow_kb" -v ws="$slow_s" -v bk="$big_kb" -v bs="$big_s" -v gb="$GB" 'BEGIN {
    printf "  100 MB stream:                peak RSS %6.1f MB, %.3f GB/s\n", sk / 1024, 0.1 / ss
    printf "   20 MB stream, slow consumer: peak RSS %6.1f MB, %.3f GB/s\n", wk / 1024, 0.02 / ws
    printf "  %3d GB stream:                peak RSS %6.1f MB, %.3f GB/s\n", gb, bk / 1024, gb / bs
    r = bk / sk
    printf "  peak RSS <= 256 MB: %s; big / small = %.3f (target within 10%%): %s\n",
           (bk / 1024 <= 256 ? "MET" : "MISSED"), r, (r <= 1.10 && r >= 0.90 ? "MET" : "MISSED") }'
  echo "  (peak RSS: /usr/bin/time over the whole pipeline reports its largest process, statenet)"
fi
echo "load average after:  $(cut -d' ' -f1-3 /proc/loadavg)"
