# Shared by the benchmark scripts (sourced): best-of-N timing of a command, and ratios. The sourcing
# script sets RUNS, LOG and a die() function first.

# PRIORITY=rt runs each measured command under `chrt -f 10` (SCHED_FIFO; needs root or
# CAP_SYS_NICE): on a machine other jobs share, it then gets the cores as if they were
# idle, so the figures stop moving with the load (docs/performance.md).
BENCH_PRIORITY=()
if [ "${PRIORITY:-}" = rt ]; then
  chrt -f 10 true 2>/dev/null || { echo "PRIORITY=rt: chrt -f is not permitted here" >&2; exit 1; }
  BENCH_PRIORITY=(chrt -f 10)
fi

# best_of NAME CMD...: runs CMD RUNS times (exit status 0 or 1 accepted: 1 means "some
# records failed"), records the best wall time in WALL[NAME] and its CPU time in CPU[NAME],
# and the sum and count of all its wall times in WALL_SUM[NAME] and WALL_N[NAME] (for
# mean_ratio). Called again for the same NAME, it keeps the best of all calls: see interleaved.
declare -A WALL CPU WALL_SUM WALL_N
best_of() {
  local name=$1; shift
  local best="${WALL[$name]:-}" best_cpu="${CPU[$name]:-}" i rc times wall user sys
  for ((i = 1; i <= RUNS; i++)); do
    echo "== $name run $i: $*" >>"$LOG"
    set +e
    /usr/bin/time -f '%e %U %S' "${BENCH_PRIORITY[@]}" "$@" >>"$LOG" 2>"$LOG.err"
    rc=$?
    set -e
    # time's line comes last, after the command's own stderr.
    times=$(tail -n 1 "$LOG.err"); cat "$LOG.err" >>"$LOG"; rm -f "$LOG.err"
    if [ "$rc" -gt 1 ] || ! [[ $times =~ ^[0-9.]+\ [0-9.]+\ [0-9.]+$ ]]; then
      tail -n 20 "$LOG" >&2
      die "$name failed (see $LOG)"
    fi
    read -r wall user sys <<<"$times"
    WALL_SUM[$name]=$(awk -v a="${WALL_SUM[$name]:-0}" -v b="$wall" 'BEGIN { print a + b }')
    WALL_N[$name]=$((${WALL_N[$name]:-0} + 1))
    if [ -z "$best" ] || awk -v a="$wall" -v b="$best" 'BEGIN { exit !(a < b) }'; then
      best=$wall
      best_cpu=$(awk -v u="$user" -v s="$sys" 'BEGIN { printf "%.2f", u + s }')
    fi
  done
  WALL[$name]=$best
  CPU[$name]=$best_cpu
}

# An awk function for the scripts' awk programs: verdict(r, target) is "MET", or how far
# short of the target r is.
AWK_VERDICT='function verdict(r, t) { return r >= t ? "MET" : sprintf("MISSED (%.0f%% of target)", 100 * r / t) }'

# ratio NAME NUM DEN TARGET: NUM/DEN in records/s (wall clock), whether it meets TARGET,
# and the same ratio from CPU seconds (what it would be on an idle machine).
ratio() {
  awk -v name="$1" -v a="${WALL[$3]}" -v b="${WALL[$2]}" -v ca="${CPU[$3]}" -v cb="${CPU[$2]}" -v target="$4" "$AWK_VERDICT"'
  BEGIN {
    r = a / b
    printf "%-34s %6.2f   target >= %-5s %-28s (from CPU s: %.2f)\n", name, r, target, verdict(r, target), ca / cb
  }'
}

# mean_ratio NAME NUM DEN TARGET: like ratio, from the mean wall time of all NUM's and DEN's
# runs rather than the best: less lucky, and a check on a best-of figure.
mean_ratio() {
  awk -v name="$1" -v sa="${WALL_SUM[$3]}" -v na="${WALL_N[$3]}" -v sb="${WALL_SUM[$2]}" -v nb="${WALL_N[$2]}" \
    -v target="$4" "$AWK_VERDICT"'
  BEGIN {
    r = (sa / na) / (sb / nb)
    printf "%-34s %6.2f   target >= %-5s %s\n", name, r, target, verdict(r, target)
  }'
}

# interleaved FUNCTION: calls FUNCTION (which runs best_of for each program compared)
# RUNS times with RUNS=1, so the programs take turns: on a shared machine whose speed
# drifts, each one's best run comes from the same stretches of time as the others'.
interleaved() {
  local rounds=$RUNS round
  RUNS=1
  for ((round = 1; round <= rounds; round++)); do "$1"; done
  RUNS=$rounds
}
