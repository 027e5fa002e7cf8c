#!/usr/bin/env bash
# End-to-end tests of machine actions and the batch route under `statenet machine
# serve`: an action calling the fake API server, POST /events with per-event results
# and keys, an action in flight when the server is killed (-9) runs again after a
# restart, and an action a one-shot `machine send` starts waits in the store for serve.
# Usage: tests/machine_actions_serve_test.sh STATENET_BINARY SOURCE_ROOT FAKE_API_SERVER
set -euo pipefail

statenet=$1
server_bin=$3
tmp=$(mktemp -d)
export no_proxy=127.0.0.1
pids=()
cleanup() {
    for p in "${pids[@]}"; do
        kill -9 "$p" 2>/dev/null || true
        wait "$p" 2>/dev/null || true
    done
    rm -rf "$tmp"
}
trap cleanup EXIT
source "$(dirname "$0")/cli_lib.sh"

start_fake_api "$server_bin"
pids+=("$fake_api_pid")
api=$fake_api_url

cat >"$tmp/wf.toml" <<TOML
name = "jobs"
[resources.api]
type = "http"
base_url = "$api"
retries = 0

[actions]
fetch = { lua = "return ctx.resources.api:get('/items/' .. data.id).json.name" }
[actions.slow]
run = { lua = "ctx.resources.api:get('/delay/1500'); return 'slow done'" }
timeout_ms = 20000

[networks.main.states.idle]
start = true
[[networks.main.states.idle.arcs]]
to = "waiting"
on = "go"
transform = { lua = "ctx.start_action(ctx.event.action, ctx.event.args)" }
[[networks.main.states.idle.arcs]]
to = "idle"
on = "bump"
transform = { lua = "data.n = (data.n or 0) + 1" }

[networks.main.states.waiting]

[[networks.main.any.arcs]]
to = "idle"
on = "action_done"
transform = { lua = "data.result = ctx.event.result" }
TOML

# serve NAME: starts a server on the store; sets $pid and $base.
serve() {
    "$statenet" machine serve --store "$tmp/m.db" "$tmp/wf.toml" --listen 127.0.0.1:0 \
        >"$tmp/$1.out" 2>"$tmp/$1.err" &
    pid=$!
    pids+=("$pid")
    for _ in $(seq 100); do [[ -s "$tmp/$1.out" ]] && break; sleep 0.05; done
    base=$(head -n1 "$tmp/$1.out")
    [[ $base == http://127.0.0.1:* ]] || { cat "$tmp/$1.err" >&2; echo "serve $1 did not start" >&2; exit 1; }
}

stop_server() {
    kill "-$1" "$pid"
    set +e
    wait "$pid" 2>/dev/null
    set -e
}

# post PATH BODY: the reply's body in $tmp/out, its status in $code.
post() {
    last_command="POST $1 $2"
    code=$(curl -s -o "$tmp/out" -w '%{http_code}' -X POST -H 'Content-Type: application/json' \
        --data-binary "$2" "$base$1" 2>"$tmp/err" || true)
}

# wait_result ID TEXT: up to 10 s for instance ID's result to be TEXT.
wait_result() {
    checks=$((checks + 1))
    for _ in $(seq 200); do
        curl -s "$base/instances/$1" >"$tmp/out" || true
        grep -qF "\"result\":\"$2\"" "$tmp/out" && return 0
        sleep 0.05
    done
    fail "instance $1 never got the result $2"
}

echo "== an action calls the API outside the event; action_done brings the result"
serve a
post /instances '{"id":"w"}'
post /instances/w/events '{"event":"go","payload":{"action":"fetch","args":{"id":7}}}'
checks=$((checks + 1))
[[ $code == 200 ]] || fail "go answered $code"
expect_contains "$tmp/out" '"to":"main/waiting"'
wait_result w item-7

echo "== POST /events: a batch with per-event results and keys"
post /events '{"events":[{"instance":"w","event":"bump","key":"k1"},{"instance":"w","event":"bump","key":"k2"},{"instance":"nobody","event":"bump"},{"instance":"w","event":"nope"}]}'
checks=$((checks + 1))
[[ $code == 200 ]] || fail "the batch answered $code"
expect_contains "$tmp/out" '{"instance":"w","event":"bump","status":"applied","key":"k1"'
expect_contains "$tmp/out" '{"instance":"w","event":"bump","status":"applied","key":"k2"'
expect_contains "$tmp/out" '{"error":{"code":"not_found","message":"no machine instance '"'"'nobody'"'"'"}}'
expect_contains "$tmp/out" '{"instance":"w","event":"nope","status":"rejected"'
# Sent again (every instance known: one transaction), the keyed events are duplicates.
post /events '{"events":[{"instance":"w","event":"bump","key":"k1"},{"instance":"w","event":"bump","key":"k3"}]}'
expect_contains "$tmp/out" '"status":"duplicate","first":"applied","key":"k1"'
expect_contains "$tmp/out" '"status":"applied","key":"k3"'
curl -s "$base/instances/w" >"$tmp/out"
expect_contains "$tmp/out" '"n":3'
post /events '{"events":3}'
checks=$((checks + 1))
[[ $code == 400 ]] || fail "a bad batch answered $code, expected 400"
post /events '{"events":[{"event":"bump"}]}'
checks=$((checks + 1))
[[ $code == 400 ]] || fail "an event without an instance answered $code, expected 400"

echo "== kill -9 with an action in flight: it runs again after the restart"
post /instances/w/events '{"event":"go","payload":{"action":"slow"}}'
sleep 0.3
stop_server 9
open=$(sqlite3 "$tmp/m.db" "SELECT count(*) FROM statenet_actions WHERE done = 0 AND name = 'slow'")
checks=$((checks + 1))
[[ $open == 1 ]] || fail "$open slow actions open after kill -9, expected 1"
serve b
wait_result w "slow done"
done_events=$(sqlite3 "$tmp/m.db" "SELECT count(*) FROM statenet_audit WHERE instance = 'w' AND event = 'action_done' AND outcome = 'applied'")
checks=$((checks + 1))
[[ $done_events == 2 ]] || fail "$done_events action_done events applied, expected 2 (fetch, slow)"
stop_server TERM

echo "== a one-shot machine send starts an action; serve runs it"
expect_exit 0 "$statenet" machine send --store "$tmp/m.db" "$tmp/wf.toml" w go --payload '{"action":"fetch","args":{"id":9}}'
expect_contains "$tmp/out" '"to":"main/waiting"'
serve c
wait_result w item-9
stop_server TERM

cli_done
