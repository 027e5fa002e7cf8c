#!/usr/bin/env bash
# Where statenet's time goes on the reference benchmark: samples `statenet run` with perf
# (cpu-clock, DWARF call graphs) and prints the CPU share of each stage of the pipeline,
# then the top self-time symbols and shared objects.
#
#   bench/profile.sh [N] [MODE]        N records (default 200000), MODE copy|direct (default copy)
#
# Needs `perf` (hardware counters are not required: cpu-clock is a software event).
# LuaJIT's internals are stripped in Debian's build: they show as addresses in
# libluajit, and JIT-compiled Lua as "[JIT] tid"; stacks cannot be unwound through them.
set -euo pipefail

N=${1:-200000}
MODE=${2:-copy}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-$ROOT/build}
OUT=$ROOT/bench/out
command -v perf >/dev/null || { echo "profile: perf not found" >&2; exit 1; }

ninja -C "$BUILD" >/dev/null
mkdir -p "$OUT"
IN=$OUT/records_$N.jsonl
[ -s "$IN" ] || { "$BUILD/bench/gen_records" "$N" >"$IN.tmp" && mv "$IN.tmp" "$IN"; }
DATA=$OUT/perf_$MODE.data

perf record -q -e cpu-clock -F 1000 --call-graph dwarf,12288 -o "$DATA" \
  "$BUILD/src/cli/statenet" run "$ROOT/bench/reference/reference.toml" -i "$IN" \
  -o "$OUT/profile_$MODE.jsonl" --errors "$OUT/profile_${MODE}_errors.jsonl" --mode "$MODE" --quiet || [ $? -eq 1 ]

echo "statenet run, $MODE mode, $N records: CPU share by pipeline stage (perf, cpu-clock)"
# Each sample goes to the deepest stage frame on its stack (stack listed leaf first).
perf script -i "$DATA" -F ip,sym,dso 2>/dev/null | awk '
  function stage(sym) {
    if (sym ~ /OutcomeWriter::add_failure/) return "errors sink: failed records as JSONL|stop"
    if (sym ~ /OutcomeWriter::write|write_encoded/) return "output: the line to the sink"
    if (sym ~ /LineReader|JsonlSource/) return "input: read lines"
    if (sym ~ /scan_object_fields|JsonRecord::parse/) return "run_json: parse (strict scan, field index)"
    if (sym ~ /json_field_for_ffi|JsonRecord::field|JsonRecord::push/) return "run_json: fields decoded for Lua"
    if (sym ~ /write_json_record/) return "run_json: output line (changed fields from Lua, the rest copied)"
    if (sym ~ /parse_record|Value::from_json/) return "input: JSON -> Value (simdjson)"
    if (sym ~ /Value::to_json/) return "output: Value -> JSON"
    if (sym ~ /BufferedWriter::flush/) return "output: write(2)"
    if (sym ~ /Workflow::process/) return "process(): other (Result, copies, frees)"
    if (sym ~ /push_value/) return "process(): Value -> Lua table (push_value)"
    if (sym ~ /read_slot|read_value/) return "process(): Lua table -> Value (read_value)"
    if (sym ~ /Runner::step|lua_pcall/) return "Lua: begin and steps (pcall into the dispatcher + user functions)"
    if (sym ~ /Runner::run_once|Runner::run_json/) return "run: bookkeeping (Result, branch, transaction)"
    if (sym ~ /process_record|run_sequential|run_stream/) return "stream loop: other (destructors, bookkeeping)"
    if (sym ~ /^main$/) return "start-up, load, exit"
    return ""
  }
  function flush_sample(   i, s, cat, leafdso) {
    if (n == 0) return
    cat = ""
    for (i = n; i >= 1; i--) {            # root first
      s = stage(syms[i])
      if (s == "") continue
      if (s ~ /\|stop$/) { cat = substr(s, 1, length(s) - 5); break }
      cat = s
    }
    if (cat == "") {
      leafdso = dsos[1]
      if (leafdso ~ /JIT|luajit|perf-[0-9]+\.map/) cat = "LuaJIT code, stack not unwound (most likely in Lua steps)"
      else cat = "other (stack not unwound)"
    }
    count[cat]++; total++
    n = 0
  }
  /^[ \t]*$/ { flush_sample(); next }
  {
    line = $0; sub(/^[ \t]+/, "", line)
    ip = line; sub(/ .*/, "", ip)
    rest = substr(line, length(ip) + 2)
    dso = rest; sub(/.*\(/, "", dso); sub(/\)$/, "", dso)
    sym = rest; sub(/ \([^()]*\)$/, "", sym); sub(/\+0x[0-9a-f]+$/, "", sym)
    n++; syms[n] = sym; dsos[n] = dso
  }
  END {
    flush_sample()
    for (c in count) printf "%6.1f%%  %s\n", 100 * count[c] / total, c | "sort -rn"
    close("sort -rn")
    printf "(%d samples)\n", total
  }'

# `head` closes the pipes early; that is not a failure.
set +o pipefail
echo
echo "top self-time symbols:"
perf report -i "$DATA" --no-children --sort dso,symbol --stdio -g none 2>/dev/null |
  grep -v '^#' | grep -v '^$' | sed -E -e 's/  +/ /g' -e 's/ - - *$//' \
      -e '/\[\.\] std::.*variant/{/_M_reset/s/\[\.\] .*/[.] Value destructor (std::variant reset)/;/_Copy_ctor/s/\[\.\] .*/[.] Value copy (std::variant copy)/;/_Move_ctor/s/\[\.\] .*/[.] Value move (std::variant move)/}' |
  cut -c1-110 | head -n 20
echo
echo "by shared object:"
perf report -i "$DATA" --no-children --sort dso --stdio -g none 2>/dev/null |
  grep -v '^#' | grep -v '^$' | sed 's/  */ /g' | head -n 10
