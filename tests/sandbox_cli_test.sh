#!/usr/bin/env bash
# End-to-end tests of the Lua sandbox and limits (docs/security.md) through the statenet
# command, on the workflows in tests/workflows/sandbox/.
# Usage: tests/sandbox_cli_test.sh STATENET_BINARY SOURCE_ROOT
set -euo pipefail

statenet=$1
wf=$2/tests/workflows/sandbox
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
source "$(dirname "$0")/cli_lib.sh"

# records WHAT...: one record per WHAT, ids from 1, each followed by a plain one.
records() {
  local id=0 what
  for what in "$@"; do
    id=$((id + 1)); echo "{\"id\":$id,\"what\":\"$what\"}"
    id=$((id + 1)); echo "{\"id\":$id}"
  done
}

echo "== a bad record fails alone; the process and the next record go on"
records exit ffi io loop bomb rawset >"$tmp/in.jsonl"
expect_exit 1 "$statenet" run "$wf/stream.toml" -i "$tmp/in.jsonl" -o "$tmp/out.jsonl"
expect_match "$tmp/err" "$(summary_re 12 6 0 6)"
expect_match "$tmp/err" '^statenet: record 1 failed: LuaError: .*stream.toml:11: attempt to call field .exit.'
expect_match "$tmp/err" "^statenet: record 3 failed: LuaError: .*module 'ffi' is not available"
expect_match "$tmp/err" "^statenet: record 5 failed: LuaError: .*stream.toml:13: attempt to index global 'io'"
expect_match "$tmp/err" '^statenet: record 7 failed: Timeout: .*stream.toml:14: a Lua call ran longer than its limit of 200 ms'
expect_match "$tmp/err" '^statenet: record 9 failed: OutOfMemory: '
expect_match "$tmp/err" '^statenet: record 11 failed: LuaError: .*rawset: the table is read-only'
expect_file "$tmp/out.jsonl" '{"id":2,"x":0}
{"id":4,"x":0}
{"id":6,"x":0}
{"id":8,"x":0}
{"id":10,"x":0}
{"id":12,"x":0}'

echo "== globals do not leak between records, with two workers"
for i in $(seq 1 200); do echo "{\"id\":$i,\"what\":\"global\"}"; done >"$tmp/globals.jsonl"
expect_exit 0 "$statenet" run "$wf/stream.toml" -i "$tmp/globals.jsonl" -o "$tmp/globals_out.jsonl" -j 2
for i in $(seq 1 200); do echo "{\"id\":$i,\"what\":\"global\",\"x\":0}"; done >"$tmp/globals_want.jsonl"
checks=$((checks + 1))
cmp -s "$tmp/globals_out.jsonl" "$tmp/globals_want.jsonl" || fail "a record saw another record's global"

echo "== trust opts in; --sandbox strict refuses it"
expect_exit 0 "$statenet" run "$wf/trusting.lua" --data '{}'
expect_contains "$tmp/out" '"n": 42'
expect_exit 0 "$statenet" validate "$wf/trusting.lua"
expect_exit 2 "$statenet" validate --sandbox strict "$wf/trusting.lua"
expect_line "$tmp/err" "$wf/trusting.lua:5:3: error: the sandbox is strict: this host lets no workflow opt out of it with 'trust'"
expect_exit 2 "$statenet" run --sandbox strict "$wf/trusting.lua" --data '{}'
expect_contains "$tmp/err" "trusting.lua:5:3: the sandbox is strict"
expect_exit 2 "$statenet" validate --sandbox lenient "$wf/trusting.lua"

echo "== validate ends on a Lua workflow that loops at load"
expect_exit 2 timeout 30 "$statenet" validate --call-limit-ms 200 "$wf/loops_at_load.lua"
expect_line "$tmp/err" "$wf/loops_at_load.lua:3: error: the workflow's Lua ran longer than 200 ms while loading (limits.call_ms)"

cli_done
