#!/usr/bin/env bash
# Sandbox benchmark: the reference workload with the Lua sandbox, the call limit, the
# memory cap and the isolation between records on (the default) and off
# (STATENET_UNSANDBOXED=1, an undocumented switch kept for this comparison: the engine
# as it was before them), interleaved, side by side, as a ratio.
#
#   bench/run_sandbox.sh [N]        N records (default 1000000)
#
# Environment: BUILD (default: build), RUNS (best of, default 5), INSTR_N (when set and
# valgrind is installed: also instructions per record, callgrind on 1,000 and on
# 1,000 + INSTR_N records, a figure that load on the machine does not move).
set -euo pipefail

N=${1:-1000000}
RUNS=${RUNS:-5}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-$ROOT/build}
OUT=$ROOT/bench/out
LOG=$OUT/run_sandbox.log
STATENET=$BUILD/src/cli/statenet
WORKFLOW=$ROOT/bench/reference/reference.toml

die() { echo "run_sandbox: $*" >&2; exit 1; }

mkdir -p "$OUT"
ninja -C "$BUILD" >"$OUT/ninja.log" 2>&1 || { cat "$OUT/ninja.log" >&2; die "build failed"; }
: >"$LOG"
IN=$OUT/records_$N.jsonl
if [ ! -s "$IN" ]; then
  "$BUILD/bench/gen_records" "$N" >"$IN.tmp"
  mv "$IN.tmp" "$IN"
fi

source "$ROOT/bench/bench_lib.sh"

echo "statenet sandbox benchmark: $N records ($(du -h "$IN" | cut -f1)), best of $RUNS, $(nproc) cores"
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"

each_program() {
  for mode in copy direct; do
    best_of "${mode}_on" "$STATENET" run "$WORKFLOW" -i "$IN" -o "$OUT/sandbox_${mode}_on.jsonl" \
      --errors "$OUT/sandbox_${mode}_on_errors.jsonl" --mode "$mode" --quiet
    best_of "${mode}_off" env STATENET_UNSANDBOXED=1 "$STATENET" run "$WORKFLOW" -i "$IN" \
      -o "$OUT/sandbox_${mode}_off.jsonl" --errors "$OUT/sandbox_${mode}_off_errors.jsonl" --mode "$mode" --quiet
  done
}
interleaved each_program

echo "load average after:  $(cut -d' ' -f1-3 /proc/loadavg)"
for mode in copy direct; do
  cmp -s "$OUT/sandbox_${mode}_on.jsonl" "$OUT/sandbox_${mode}_off.jsonl" ||
    die "$mode: the sandboxed run wrote other records than the unsandboxed one"
done

rate() { awk -v n="$N" -v s="${WALL[$1]}" 'BEGIN { printf "%.0f", n / s }'; }
printf "%-22s %12s %12s\n" "" "records/s" "CPU s"
for name in copy_off copy_on direct_off direct_on; do
  printf "%-22s %12s %12s\n" "$name" "$(rate "$name")" "${CPU[$name]}"
done
ratio "copy: sandbox on / off" copy_on copy_off 0.95
ratio "direct: sandbox on / off" direct_on direct_off 0.95

[ -n "${INSTR_N:-}" ] || exit 0
command -v valgrind >/dev/null || die "INSTR_N needs valgrind (apt-get install valgrind)"
"$BUILD/bench/gen_records" $((INSTR_N + 1000)) >"$OUT/sandbox_instr_all.jsonl"
head -n 1000 "$OUT/sandbox_instr_all.jsonl" >"$OUT/sandbox_instr_small.jsonl"
# instructions MODE FILE [VAR=VALUE...]: what callgrind counts for one run.
instructions() {
  local mode=$1 file=$2; shift 2
  env "$@" valgrind --tool=callgrind --callgrind-out-file=/dev/null "$STATENET" run "$WORKFLOW" -i "$file" \
    -o /dev/null --errors /dev/null --mode "$mode" --quiet 2>&1 >/dev/null | awk '/Collected/ { print $4 }'
}
# per_record MODE [VAR=VALUE...]: the instructions of INSTR_N records, start-up excluded.
per_record() {
  local mode=$1 small large; shift
  small=$(instructions "$mode" "$OUT/sandbox_instr_small.jsonl" "$@")
  large=$(instructions "$mode" "$OUT/sandbox_instr_all.jsonl" "$@")
  echo $(((large - small) / INSTR_N))
}
echo "instructions per record (callgrind, $INSTR_N records, start-up excluded)"
for mode in copy direct; do
  on=$(per_record "$mode")
  off=$(per_record "$mode" STATENET_UNSANDBOXED=1)
  awk -v m="$mode" -v on="$on" -v off="$off" 'BEGIN {
    printf "%-8s sandbox on %7d   off %7d   off / on %.3f (target >= 0.95)\n", m, on, off, off / on }'
done
