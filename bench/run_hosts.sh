#!/usr/bin/env bash
# Host overhead (issue 17): process() on the reference record through the C++ API, the C
# ABI and the Python module, and a pure-Python FSM (python3-transitions) doing the same
# workflow, per call, in turns. Prints each figure and the ratios against the C++ call
# measured in the same run. Targets: C ABI <= 1.2 x C++, Python <= 3 x C++, statenet
# from Python >= 20 x the pure-Python FSM.
#
#   bench/run_hosts.sh [CALLS]      calls per measurement (default 100000)
#
# Environment: BUILD (default: build), RUNS (alternations, default 3), PYTHON (default:
# the interpreter meson built the module for, /usr/bin/python3).
set -euo pipefail

CALLS=${1:-100000}
RUNS=${RUNS:-3}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-$ROOT/build}
PYTHON=${PYTHON:-/usr/bin/python3}
OUT=$ROOT/bench/out

die() { echo "run_hosts: $*" >&2; exit 1; }

mkdir -p "$OUT"
ninja -C "$BUILD" >"$OUT/ninja.log" 2>&1 || { cat "$OUT/ninja.log" >&2; die "build failed"; }
[ -x "$BUILD/bench/host_latency" ] || die "no $BUILD/bench/host_latency"
ls "$BUILD"/python/statenet*.so >/dev/null 2>&1 || die "no Python module in $BUILD/python (meson -Dpython=enabled)"
"$PYTHON" -c 'import transitions' 2>/dev/null || die "python3-transitions is missing (apt-get install python3-transitions)"

echo "statenet host overhead: process() on the reference record, $CALLS calls per measurement, best of $RUNS turns"
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
  keep_best < <(ROUNDS=1 "$BUILD/bench/host_latency" "$CALLS")
  keep_best < <(ROUNDS=1 PYTHONPATH="$BUILD/python" "$PYTHON" "$ROOT/bench/python_latency.py" "$CALLS")
done

printf '%-52s %8s %8s\n' "path (thread CPU time per call)" "us/call" "x C++"
row() { awk -v n="$1" -v v="${BEST[$2]}" -v c="${BEST[cpp_us]}" 'BEGIN { printf "%-52s %8.2f %8.2f\n", n, v, v / c }'; }
row "C++ Workflow::process(Value)" cpp_us
row "C++ from_json + process + to_value().to_json()" cpp_json_us
row "C ABI statenet_process (JSON text in and out)" capi_us
row "Python Workflow.process(dict), result.ok" python_us
row "Python Workflow.process(dict), result.data read" python_data_us
row "pure Python FSM (transitions), one machine reset" transitions_us
row "pure Python FSM (transitions), a machine per record" transitions_new_us
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
verdict() {  # NAME VALUE TARGET at-most|at-least
  awk -v n="$1" -v r="$2" -v t="$3" -v way="$4" 'BEGIN {
    met = (way == "at-most") ? r <= t : r >= t
    printf "%-40s %6.2f   target %s %-5s %s\n", n, r, (way == "at-most" ? "<=" : ">="), t, (met ? "MET" : "MISSED") }'
}
verdict "C ABI / C++" "$(awk -v a="${BEST[capi_us]}" -v b="${BEST[cpp_us]}" 'BEGIN { print a / b }')" 1.2 at-most
verdict "C ABI / C++ with the same JSON text" "$(awk -v a="${BEST[capi_us]}" -v b="${BEST[cpp_json_us]}" 'BEGIN { print a / b }')" 1.2 at-most
verdict "Python (data read) / C++" "$(awk -v a="${BEST[python_data_us]}" -v b="${BEST[cpp_us]}" 'BEGIN { print a / b }')" 3 at-most
verdict "transitions (reset) / statenet from Python" "$(awk -v a="${BEST[transitions_us]}" -v b="${BEST[python_data_us]}" 'BEGIN { print a / b }')" 20 at-least
verdict "transitions (new) / statenet from Python" "$(awk -v a="${BEST[transitions_new_us]}" -v b="${BEST[python_data_us]}" 'BEGIN { print a / b }')" 20 at-least
