#!/usr/bin/env bash
# Files benchmark (issue 18): the same N records read as JSONL, as CSV, as a CSV saved as
# .dat (format found from its first bytes) and as XML (pugixml per record element), each
# through a one-state workflow into a JSONL file, interleaved; prints records/s, then
# sniffed .dat / .csv (target >= 0.95: detection costs nothing per record) and XML / CSV
# (target >= 0.5; both build every record, while an unchanged JSONL line is copied as it
# is). Then the peak memory of reading XML with N and with 10 N records (streamed: about
# the same).
#
#   bench/run_files.sh [N]        N records (default 300000)
#
# Environment: BUILD (default: build), RUNS (best of, default 5), PRIORITY=rt (chrt).
set -euo pipefail

N=${1:-300000}
RUNS=${RUNS:-5}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-$ROOT/build}
OUT=$ROOT/bench/out
LOG=$OUT/run_files.log
STATENET=$BUILD/src/cli/statenet
WORKFLOW=$ROOT/bench/files/pass.toml

die() { echo "run_files: $*" >&2; exit 1; }

mkdir -p "$OUT"
ninja -C "$BUILD" >"$OUT/ninja.log" 2>&1 || { cat "$OUT/ninja.log" >&2; die "build failed"; }
: >"$LOG"

# make_inputs N STEM: STEM.jsonl, STEM.csv, STEM.dat and STEM.xml with the same N records.
make_inputs() {
  local n=$1 stem=$2
  [ -s "$stem.xml" ] && return
  awk -v n="$n" -v stem="$stem" 'BEGIN {
    print "id,name,qty,price" > (stem ".csv")
    print "<orders>" > (stem ".xml")
    for (i = 1; i <= n; i++) {
      name = "item-" (i % 997); qty = i % 13; price = (i % 500) / 4
      printf "{\"id\":%d,\"name\":\"%s\",\"qty\":%d,\"price\":%s}\n", i, name, qty, price > (stem ".jsonl")
      printf "%d,%s,%d,%s\n", i, name, qty, price > (stem ".csv")
      printf "  <order id=\"%d\"><name>%s</name><qty>%d</qty><price>%s</price></order>\n", i, name, qty, price > (stem ".xml")
    }
    print "</orders>" > (stem ".xml")
  }'
  cp "$stem.csv" "$stem.dat"
}
IN=$OUT/files_$N
make_inputs "$N" "$IN"

source "$ROOT/bench/bench_lib.sh"

echo "statenet files benchmark: $N records (xml $(du -h "$IN.xml" | cut -f1)), best of $RUNS, $(nproc) cores"
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"

each_format() {
  local format
  for format in jsonl csv dat xml; do
    best_of "$format" "$STATENET" run "$WORKFLOW" -i "$IN.$format" -o "$OUT/files_out_$format.jsonl" -j 1 -q
  done
}
interleaved each_format

echo "load average after:  $(cut -d' ' -f1-3 /proc/loadavg)"
for format in csv dat xml; do
  [ "$(wc -l <"$OUT/files_out_$format.jsonl")" = "$N" ] || die "$format: not $N records written"
done

rate() { awk -v n="$N" -v s="${WALL[$1]}" 'BEGIN { printf "%.0f", n / s }'; }
printf "%-22s %12s %12s\n" "" "records/s" "CPU s"
for format in jsonl csv dat xml; do
  printf "%-22s %12s %12s\n" "$format" "$(rate "$format")" "${CPU[$format]}"
done
ratio "sniffed .dat / .csv" dat csv 0.95
ratio "xml / csv" xml csv 0.5

# Peak memory (max RSS) reading XML: N records, then 10 N.
BIG=$OUT/files_$((N * 10))
make_inputs $((N * 10)) "$BIG"
peak() { /usr/bin/time -f %M "$STATENET" run "$WORKFLOW" -i "$1" -o /dev/null -j 1 -q 2>&1 >/dev/null | tail -n 1; }
small_kb=$(peak "$IN.xml")
big_kb=$(peak "$BIG.xml")
printf "peak memory reading XML: %d records %d MiB, %d records %d MiB (ratio %.2f, target <= 1.5)\n" \
  "$N" $((small_kb / 1024)) $((N * 10)) $((big_kb / 1024)) "$(awk -v a="$big_kb" -v b="$small_kb" 'BEGIN { print a / b }')"
