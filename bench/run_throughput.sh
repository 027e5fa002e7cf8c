#!/usr/bin/env bash
# Throughput benchmark: statenet (copy, direct) against baseline A (hand-written LuaJIT +
# lua-cjson) and baseline B (the I/O floor), all on the same generated JSONL file, plus
# the single-record process() latency. Prints figures and the ratios against the targets.
# statenet runs with 1 worker (the A comparison is defined for 1 worker), and once with
# one worker per core (-j 0), as a user would run it, for the comparison with B.
#
#   bench/run_throughput.sh [N]        N records (default 1000000)
#
# Environment: BUILD (default: build), RUNS (best of, default 3).
# Times are wall-clock seconds of the whole process (start-up and load included), best
# of RUNS; CPU seconds (user+sys) of that best run are shown too, since wall time on a
# shared machine also counts the time other processes hold the cores.
set -euo pipefail

N=${1:-1000000}
RUNS=${RUNS:-3}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-$ROOT/build}
OUT=$ROOT/bench/out
LOG=$OUT/run_throughput.log
STATENET=$BUILD/src/cli/statenet
WORKFLOW=$ROOT/bench/reference/reference.toml

die() { echo "run_throughput: $*" >&2; exit 1; }

mkdir -p "$OUT"
ninja -C "$BUILD" >"$OUT/ninja.log" 2>&1 || { cat "$OUT/ninja.log" >&2; die "build failed"; }
command -v luajit >/dev/null || die "luajit not found (apt-get install luajit lua-cjson)"
luajit -e 'package.cpath = package.cpath .. ";/usr/lib/x86_64-linux-gnu/lua/5.1/?.so"; require "cjson"' 2>/dev/null ||
  die "lua-cjson not found (apt-get install lua-cjson)"
for exe in "$STATENET" "$BUILD/bench/gen_records" "$BUILD/bench/io_floor" "$BUILD/bench/process_latency"; do
  [ -x "$exe" ] || die "$exe is missing"
done

: >"$LOG"
IN=$OUT/records_$N.jsonl
if [ ! -s "$IN" ]; then
  "$BUILD/bench/gen_records" "$N" >"$IN.tmp"
  mv "$IN.tmp" "$IN"
fi

source "$ROOT/bench/bench_lib.sh"

echo "statenet throughput benchmark: $N records ($(du -h "$IN" | cut -f1)), best of $RUNS, $(nproc) cores"
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
if awk -v l="$(cut -d' ' -f1 /proc/loadavg)" 'BEGIN { exit !(l > 1.0) }'; then
  echo "warning: the machine is busy; wall-clock figures will be low and noisy (compare CPU seconds)"
fi

# The programs take turns (interleaved), so their best runs see the same machine.
each_program() {
  best_of copy "$STATENET" run "$WORKFLOW" -i "$IN" -o "$OUT/statenet_copy.jsonl" \
    --errors "$OUT/statenet_copy_errors.jsonl" --mode copy --quiet
  best_of copy_all "$STATENET" run "$WORKFLOW" -i "$IN" -o "$OUT/statenet_copy_all.jsonl" \
    --errors "$OUT/statenet_copy_all_errors.jsonl" --mode copy -j 0 --quiet
  best_of direct "$STATENET" run "$WORKFLOW" -i "$IN" -o "$OUT/statenet_direct.jsonl" \
    --errors "$OUT/statenet_direct_errors.jsonl" --mode direct --quiet
  best_of A luajit "$ROOT/bench/baseline_a.lua" "$IN" "$OUT/baseline_a.jsonl" "$OUT/baseline_a_errors.jsonl"
  best_of B "$BUILD/bench/io_floor" "$IN" "$OUT/io_floor.jsonl"
  best_of B_value "$BUILD/bench/io_floor" "$IN" "$OUT/io_floor_value.jsonl" --value
}
interleaved each_program

echo "load average after:  $(cut -d' ' -f1-3 /proc/loadavg)"

# The runs must agree before their speeds mean anything.
lines() { wc -l <"$1" | tr -d ' '; }
copy_lines=$(lines "$OUT/statenet_copy.jsonl")
a_lines=$(lines "$OUT/baseline_a.jsonl")
[ "$copy_lines" = "$a_lines" ] || die "statenet wrote $copy_lines records, baseline A $a_lines"
[ "$(lines "$OUT/statenet_direct.jsonl")" = "$a_lines" ] || die "statenet direct and baseline A disagree"
cmp -s "$OUT/statenet_copy.jsonl" "$OUT/statenet_copy_all.jsonl" || die "statenet -j 0 wrote other records than -j 1"
[ "$(lines "$OUT/statenet_copy_errors.jsonl")" = "$(lines "$OUT/baseline_a_errors.jsonl")" ] ||
  die "statenet and baseline A failed different numbers of records"
[ "$(lines "$OUT/io_floor.jsonl")" = "$N" ] || die "io_floor wrote $(lines "$OUT/io_floor.jsonl") of $N records"
check=$(luajit "$ROOT/bench/compare_outputs.lua" "$OUT/statenet_copy.jsonl" "$OUT/baseline_a.jsonl" 100000) ||
  die "statenet and baseline A outputs differ"
echo "outputs: $copy_lines emitted, $(lines "$OUT/baseline_a_errors.jsonl") failed, same in statenet and A" \
  "(first ${check%% *} records compared field by field)"

latency=$("$BUILD/bench/process_latency" "$WORKFLOW" 200000)
copy_median=$(awk '/^process_latency copy:/ { print $4 }' <<<"$latency")
copy_p99=$(awk '/^process_latency copy:/ { print $7 }' <<<"$latency")
direct_median=$(awk '/^process_latency direct:/ { print $4 }' <<<"$latency")

rate() { awk -v n="$N" -v t="${WALL[$1]}" 'BEGIN { printf "%.0f", n / t }'; }
echo
printf '%-38s %10s %8s %8s\n' "program" "records/s" "wall s" "cpu s"
row() { printf '%-38s %10s %8s %8s\n' "$1" "$(rate "$2")" "${WALL[$2]}" "${CPU[$2]}"; }
row "statenet run, 1 worker, copy" copy
row "statenet run, -j 0 ($(nproc) workers), copy" copy_all
row "statenet run, 1 worker, direct" direct
row "A: LuaJIT + lua-cjson by hand" A
row "B: I/O floor (simdjson parse+minify)" B
row "B': statenet::Value from/to JSON" B_value

echo
ratio "statenet copy / A" copy A 2
ratio "statenet copy / statenet direct" copy direct 0.95
ratio "statenet copy / B (I/O floor)" copy B 0.5
ratio "statenet -j 0 / B (I/O floor)" copy_all B 0.5
awk -v m="$copy_median" -v p="$copy_p99" -v d="$direct_median" 'BEGIN {
  printf "%-34s %6.2f   target <  %-5s %s   (p99 %.2f us; direct median %.2f us)\n",
         "process() median, copy (us)", m, "5", (m < 5 ? "MET" : sprintf("MISSED by %.2f us", m - 5)), p, d
}'
