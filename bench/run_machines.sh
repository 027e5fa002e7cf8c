#!/usr/bin/env bash
# Machines benchmark: statenet's in-memory and durable events/s against XState 5 on the
# same toggle machine (guard + assignment per event), in the same run, plus the memory
# of an idle in-memory instance. Prints figures and the ratios against the targets.
#
#   bench/run_machines.sh [N]        N events (default 1000000; the durable part sends N/4)
#
# Environment: BUILD (default: build); PRIORITY=rt runs the measured commands under
# `chrt -f 10` (bench/bench_lib.sh). Installs xstate@5 into bench/node_modules (npm)
# on first use.
set -euo pipefail

N=${1:-1000000}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-$ROOT/build}
OUT=$ROOT/bench/out

die() { echo "run_machines: $*" >&2; exit 1; }

mkdir -p "$OUT"
ninja -C "$BUILD" >"$OUT/ninja.log" 2>&1 || { cat "$OUT/ninja.log" >&2; die "build failed"; }
command -v node >/dev/null || die "node not found"
if [ ! -d "$ROOT/bench/node_modules/xstate" ]; then
  npm install --prefix "$ROOT/bench" --no-save --no-audit --no-fund xstate@5 >"$OUT/npm.log" 2>&1 ||
    { cat "$OUT/npm.log" >&2; die "npm install xstate failed"; }
fi

# PRIORITY=rt: the measured commands run under chrt (see bench/bench_lib.sh).
BENCH_PRIORITY=()
if [ "${PRIORITY:-}" = rt ]; then
  chrt -f 10 true 2>/dev/null || die "PRIORITY=rt: chrt -f is not permitted here"
  BENCH_PRIORITY=(chrt -f 10)
fi

xstate=$("${BENCH_PRIORITY[@]}" node "$ROOT/bench/machines/xstate_toggle.mjs" "$N")
statenet=$("${BENCH_PRIORITY[@]}" "$BUILD/bench/machines_bench" "$N" 100 "$OUT" memory
           "${BENCH_PRIORITY[@]}" "$BUILD/bench/machines_bench" "$N" 100 "$OUT" durable
           # In a fresh process: freed memory of the runs above would hide the growth.
           "${BENCH_PRIORITY[@]}" "$BUILD/bench/machines_bench" "$N" 100 "$OUT" idle)
echo "xstate $(node -e 'console.log(require(process.argv[1] + "/package.json").version)' "$ROOT/bench/node_modules/xstate")"
echo "$xstate"
echo "$statenet"

value() { awk -v k="$1" '$1 == k { print $2 }' <<<"$xstate
$statenet"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
line() {  # line LABEL STATENET_KEY TARGET NOTE: the ratio against XState, wall and CPU time
  printf '%-28s %5sx wall, %5sx CPU  (target %s%s)\n' "$1" "$(ratio "$(value "$2_events_per_s")" "$(value xstate_guard_assign_events_per_s)")" \
    "$(ratio "$(value "$2_events_per_cpu_s")" "$(value xstate_guard_assign_events_per_cpu_s)")" "$3" "$4"
}
echo
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)  (wall-time ratios swing on a busy machine; CPU-time ratios less)"
line "in-memory / XState:" statenet_memory ">= 3x" ""
line "  with the audit log:" statenet_memory_audited ">= 3x" ""
line "durable (SQLite) / XState:" statenet_durable ">= 0.5x" ", send_many batches of 1000"
line "  with a key per event:" statenet_durable_keyed ">= 0.5x" ""
echo "idle in-memory instance:     $(value statenet_idle_instance_bytes) bytes  (target <= 512 + data; its data here: {})"
