#!/usr/bin/env bash
# Map benchmark (issue 14): N small items with a one-line Lua transform, run as a map
# state's items (one record whose map reads a JSONL file into a JSONL sink) and as a plain
# stream through the same sub-network (-j 1: a map runs its items on its record's worker),
# interleaved; prints map / stream in records/s (target: >= 0.5), and a map on 2 worker
# threads (`workers = 2`) / the map on its record's thread.
#
#   bench/run_map.sh [N]        N items (default 1000000)
#
# Environment: BUILD (default: build), RUNS (best of, default 5).
set -euo pipefail

N=${1:-1000000}
RUNS=${RUNS:-5}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-$ROOT/build}
OUT=$ROOT/bench/out
LOG=$OUT/run_map.log
STATENET=$BUILD/src/cli/statenet
WORKFLOW=$ROOT/bench/map/map.toml

die() { echo "run_map: $*" >&2; exit 1; }

mkdir -p "$OUT"
ninja -C "$BUILD" >"$OUT/ninja.log" 2>&1 || { cat "$OUT/ninja.log" >&2; die "build failed"; }
: >"$LOG"
IN=$OUT/map_items_$N.jsonl
if [ ! -s "$IN" ]; then
  awk -v n="$N" 'BEGIN { for (i = 1; i <= n; i++) print "{\"id\": " i ", \"n\": " i % 1000 "}" }' >"$IN.tmp"
  mv "$IN.tmp" "$IN"
fi

source "$ROOT/bench/bench_lib.sh"

echo "statenet map benchmark: $N items ($(du -h "$IN" | cut -f1)), best of $RUNS, $(nproc) cores"
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"

each_program() {
  best_of stream env BENCH_MAIN=item "$STATENET" run "$WORKFLOW" -i "$IN" -o "$OUT/map_stream.jsonl" -j 1 -q
  best_of map env MAP_ITEMS="$IN" MAP_OUT="$OUT/map_items.jsonl" "$STATENET" run "$WORKFLOW" --data '{}' -q
  best_of map2 env BENCH_MAIN=fan2 MAP_ITEMS="$IN" MAP_OUT="$OUT/map_items2.jsonl" "$STATENET" run "$WORKFLOW" --data '{}' -q
}
interleaved each_program

echo "load average after:  $(cut -d' ' -f1-3 /proc/loadavg)"
cmp -s "$OUT/map_stream.jsonl" "$OUT/map_items.jsonl" || die "the map wrote other records than the stream"
cmp -s "$OUT/map_items.jsonl" "$OUT/map_items2.jsonl" || die "the map on 2 workers wrote other records"

rate() { awk -v n="$N" -v s="${WALL[$1]}" 'BEGIN { printf "%.0f", n / s }'; }
printf "%-22s %12s %12s\n" "" "records/s" "CPU s"
for name in stream map map2; do
  printf "%-22s %12s %12s\n" "$name" "$(rate "$name")" "${CPU[$name]}"
done
ratio "map / stream" map stream 0.5
ratio "map, 2 workers / map" map2 map 1
