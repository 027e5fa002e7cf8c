#!/usr/bin/env bash
# Runs the C host example on the orders workflow and checks what it prints.
set -euo pipefail
exe=$1
examples=$2
out=$("$exe" "$examples/orders/orders.toml" '{"id": 1, "amount": 250}' 2>&1)
echo "$out"
grep -q '"ok":true' <<<"$out"
grep -q '"data":{"id":1,"amount":250,"route":"priority-desk","total":300}' <<<"$out"
set +e
err=$("$exe" "$examples/orders/orders.toml" '{"id": ' 2>&1)
code=$?
set -e
[ "$code" -eq 1 ] || { echo "expected exit 1 for bad JSON, got $code"; exit 1; }
grep -q "record 1: record_json is not valid JSON" <<<"$err" || { echo "unexpected: $err"; exit 1; }
