#!/usr/bin/env bash
# Instructions per record (valgrind's callgrind) for statenet and baseline A on the
# reference workload: a figure that does not move when other processes share the cores,
# unlike wall or CPU time. Each program runs on 1,000 and on 1,000+N records; the
# difference divided by N is its cost per record, start-up excluded.
#
#   bench/instructions.sh [N]          N records (default 10000)
#
# Environment: BUILD (default: build).
set -euo pipefail

N=${1:-10000}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-$ROOT/build}
OUT=$ROOT/bench/out
STATENET=$BUILD/src/cli/statenet
WORKFLOW=$ROOT/bench/reference/reference.toml

command -v valgrind >/dev/null || { echo "instructions: valgrind not found (apt-get install valgrind)" >&2; exit 1; }
mkdir -p "$OUT"
ninja -C "$BUILD" >/dev/null
"$BUILD/bench/gen_records" $((N + 1000)) >"$OUT/instr_all.jsonl"
head -n 1000 "$OUT/instr_all.jsonl" >"$OUT/instr_small.jsonl"

# count FILE CMD...: instructions callgrind counts for CMD with FILE as its input ("@IN").
count() {
  local file=$1; shift
  local args=("${@//@IN/$file}")
  valgrind --tool=callgrind --callgrind-out-file=/dev/null "${args[@]}" 2>&1 >/dev/null |
    awk '/Collected/ { print $4 }'
}

per_record() {
  local small large
  small=$(count "$OUT/instr_small.jsonl" "$@")
  large=$(count "$OUT/instr_all.jsonl" "$@")
  echo $(((large - small) / N))
}

copy=$(per_record "$STATENET" run "$WORKFLOW" -i @IN -o /dev/null --errors /dev/null --mode copy --quiet)
direct=$(per_record "$STATENET" run "$WORKFLOW" -i @IN -o /dev/null --errors /dev/null --mode direct --quiet)
a=$(per_record luajit "$ROOT/bench/baseline_a.lua" @IN /dev/null /dev/null)
b=$(per_record "$BUILD/bench/io_floor" @IN /dev/null)

echo "instructions per record (callgrind, $N records, start-up excluded)"
printf '%-36s %8d\n' "statenet run, 1 worker, copy" "$copy" "statenet run, 1 worker, direct" "$direct" \
  "A: LuaJIT + lua-cjson by hand" "$a" "B: I/O floor" "$b"
awk -v c="$copy" -v d="$direct" -v a="$a" -v b="$b" 'BEGIN {
  printf "statenet copy / A       %.2f   (target >= 2)\n", a / c
  printf "statenet copy / direct  %.2f   (target >= 0.95)\n", d / c
  printf "statenet copy / B       %.2f   (target >= 0.5)\n", b / c
}'
