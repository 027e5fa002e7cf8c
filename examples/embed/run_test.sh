#!/usr/bin/env bash
# Runs the embedding example on the orders workflow and checks what it prints.
set -euo pipefail
exe=$1
examples=$2
out=$("$exe" "$examples/orders/orders.toml" '{"id": 1, "amount": 250}' '{"id": 2, "amount": 20}' 2>/dev/null)
echo "$out"
grep -qx 'ok main/big {"id":1,"amount":250,"route":"priority-desk","total":300}' <<<"$out"
grep -qx 'ok main/small {"id":2,"amount":20,"route":"standard","total":24}' <<<"$out"

# A workflow error exits 2 with file:line:col diagnostics.
bad=$(mktemp --suffix=.toml)
trap 'rm -f "$bad"' EXIT
printf 'name = "bad"\n[networks.main.states.a]\nstart = true\n[[networks.main.states.a.arcs]]\nto = "nowhere"\n' >"$bad"
set +e
err=$("$exe" "$bad" 2>&1)
code=$?
set -e
[ "$code" -eq 2 ] || { echo "expected exit 2, got $code"; exit 1; }
grep -q "$bad:5:6: arc 'to': unknown state 'nowhere'" <<<"$err" || { echo "unexpected diagnostics: $err"; exit 1; }
echo "embed example: ok"
