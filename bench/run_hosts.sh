#!/usr/bin/env bash
# Host overhead (issue 17): process() on the reference record through the C++ API, the C
# ABI and the Python module, per call, in turns; statenet's batch and stream APIs from
# Python; and pure-Python FSMs doing the same workflow (bench/dataknobs_like.py: what
# dataknobs_fsm's SimpleFSM does per record, over python3-transitions; and a minimal
# transitions machine). Prints each figure and the ratios measured in the same run.
# Targets: C ABI <= 1.2 x C++, Python <= 3 x C++, statenet from Python >= 20 x the
# dataknobs-style FSM.
#
#   bench/run_hosts.sh [CALLS] [RECORDS]   calls per measurement (default 100000), records
#                                          in the file streamed by both sides (default 100000)
#
# Environment: BUILD (default: build), RUNS (alternations, default 3), PYTHON (default:
# the interpreter meson built the module for, /usr/bin/python3), PRIORITY=rt (measured
# commands under chrt: bench/bench_lib.sh).
set -euo pipefail

CALLS=${1:-100000}
N=${2:-100000}
RUNS=${RUNS:-3}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-$ROOT/build}
PYTHON=${PYTHON:-/usr/bin/python3}
OUT=$ROOT/bench/out

die() { echo "run_hosts: $*" >&2; exit 1; }
LOG=$OUT/run_hosts.log
source "$ROOT/bench/bench_lib.sh"

mkdir -p "$OUT"
ninja -C "$BUILD" >"$OUT/ninja.log" 2>&1 || { cat "$OUT/ninja.log" >&2; die "build failed"; }
[ -x "$BUILD/bench/host_latency" ] || die "no $BUILD/bench/host_latency"
ls "$BUILD"/python/statenet*.so >/dev/null 2>&1 || die "no Python module in $BUILD/python (meson -Dpython=enabled)"
"$PYTHON" -c 'import transitions' 2>/dev/null || die "python3-transitions is missing (apt-get install python3-transitions)"
IN=$OUT/records_$N.jsonl
[ -s "$IN" ] || "$BUILD/bench/gen_records" "$N" >"$IN" || die "gen_records failed"

echo "statenet host overhead: process() on the reference record, $CALLS calls per measurement, best of $RUNS turns; files of $N records"
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"

declare -A BEST
keep_best() {  # reads "name value" lines, keeps each name's lowest value
  local name value
  while read -r name value; do
    case $name in *_ratio) continue ;; esac
    if [ -z "${BEST[$name]:-}" ] || awk -v a="$value" -v b="${BEST[$name]}" 'BEGIN { exit !(a < b) }'; then
      BEST[$name]=$value
    fi
  done
}
for ((round = 1; round <= RUNS; round++)); do
  keep_best < <(ROUNDS=1 "${BENCH_PRIORITY[@]}" "$BUILD/bench/host_latency" "$CALLS")
  keep_best < <(ROUNDS=1 PYTHONPATH="$BUILD/python" "${BENCH_PRIORITY[@]}" "$PYTHON" \
    "$ROOT/bench/python_latency.py" "$CALLS" "$IN")
done

printf '%-60s %8s %8s\n' "path (CPU time per record)" "us" "x C++"
row() { awk -v n="$1" -v v="${BEST[$2]}" -v c="${BEST[cpp_us]}" 'BEGIN { printf "%-60s %8.2f %8.2f\n", n, v, v / c }'; }
row "C++ Workflow::process(Value)" cpp_us
row "C++ from_json + process + to_value().to_json()" cpp_json_us
row "C ABI statenet_process (JSON text in and out)" capi_us
row "Python Workflow.process(dict), result.ok" python_us
row "Python Workflow.process(dict), result.data read" python_data_us
row "Python process_batch(1,000 dicts, workers=1), data read" python_batch_us
row "Python process_stream(iterable, workers=1), data read" python_iter_us
row "Python process_stream(JSONL file -> file, workers=1)" python_file_us
row "dataknobs-style pure Python FSM, process(dict)" dataknobs_us
row "dataknobs-style pure Python FSM, JSONL file -> file" dataknobs_file_us
row "minimal pure Python FSM (transitions), one machine reset" transitions_us
row "minimal pure Python FSM (transitions), a machine per record" transitions_new_us
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
verdict() {  # NAME VALUE TARGET at-most|at-least
  awk -v n="$1" -v r="$2" -v t="$3" -v way="$4" 'BEGIN {
    met = (way == "at-most") ? r <= t : r >= t
    printf "%-40s %6.2f   target %s %-5s %s\n", n, r, (way == "at-most" ? "<=" : ">="), t, (met ? "MET" : "MISSED") }'
}
verdict "C ABI / C++" "$(awk -v a="${BEST[capi_us]}" -v b="${BEST[cpp_us]}" 'BEGIN { print a / b }')" 1.2 at-most
verdict "C ABI / C++ with the same JSON text" "$(awk -v a="${BEST[capi_us]}" -v b="${BEST[cpp_json_us]}" 'BEGIN { print a / b }')" 1.2 at-most
verdict "Python (data read) / C++" "$(awk -v a="${BEST[python_data_us]}" -v b="${BEST[cpp_us]}" 'BEGIN { print a / b }')" 3 at-most
against() {  # NAME BASELINE STATENET: BASELINE / STATENET, target >= 20
  verdict "$1" "$(awk -v a="${BEST[$2]}" -v b="${BEST[$3]}" 'BEGIN { print a / b }')" 20 at-least
}
against "dataknobs-style / process(dict)" dataknobs_us python_data_us
against "dataknobs-style / process_batch" dataknobs_us python_batch_us
against "dataknobs-style / process_stream(iterable)" dataknobs_us python_iter_us
against "dataknobs-style file / process_stream(file)" dataknobs_file_us python_file_us
against "minimal transitions / process(dict)" transitions_us python_data_us
