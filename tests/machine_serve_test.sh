#!/usr/bin/env bash
# End-to-end tests of `statenet machine serve` through curl: the HTTP API, timers firing
# by themselves, tokens, the event stream, metrics, hot reload, and that no acknowledged
# event is lost on SIGTERM or kill -9.
# Usage: tests/machine_serve_test.sh STATENET_BINARY SOURCE_ROOT
set -euo pipefail

statenet=$1
root=$2
examples=$root/examples
tmp=$(mktemp -d)
server_pids=()
cleanup() {
    for pid in "${server_pids[@]}"; do kill -9 "$pid" 2>/dev/null || true; done
    rm -rf "$tmp"
}
trap cleanup EXIT
source "$(dirname "$0")/cli_lib.sh"

chat=$examples/chat-session/chat_session.lua
toggle=$root/bench/machines/toggle.toml

# serve NAME DB WORKFLOW [ARGS...]: starts a server on a free port; sets $pid and $base
# (http://127.0.0.1:PORT, the first line it prints). Its output: $tmp/NAME.out and .err.
serve() {
    local name=$1 db=$2 workflow=$3
    shift 3
    "$statenet" machine serve --store "$db" "$workflow" --listen 127.0.0.1:0 "$@" \
        >"$tmp/$name.out" 2>"$tmp/$name.err" &
    pid=$!
    server_pids+=("$pid")
    for _ in $(seq 100); do
        [[ -s "$tmp/$name.out" ]] && break
        sleep 0.05
    done
    base=$(head -n1 "$tmp/$name.out")
    [[ $base == http://127.0.0.1:* ]] || { cat "$tmp/$name.err" >&2; echo "serve $name did not start" >&2; exit 1; }
}

# stop_server SIGNAL: signals the server $pid and waits for it; its exit status in $stopped.
stop_server() {
    kill "-$1" "$pid"
    set +e
    wait "$pid" 2>/dev/null  # no "Killed" line from bash for kill -9
    stopped=$?
    set -e
}

# expect_http CODE METHOD PATH [BODY [CURL_ARGS...]]: the reply's body in $tmp/out.
expect_http() {
    local want=$1 method=$2 path=$3 body=${4:-}
    shift 4 2>/dev/null || shift $#
    last_command="$method $path $body $*"
    local args=(-s -o "$tmp/out" -w '%{http_code}' -X "$method" "$@")
    [[ -n $body ]] && args+=(-H 'Content-Type: application/json' --data-binary "$body")
    code=$(curl "${args[@]}" "$base$path" 2>"$tmp/err" || true)
    checks=$((checks + 1))
    [[ $code == "$want" ]] || fail "HTTP $code, expected $want"
}

# wait_for FILE TEXT: up to 10 s for FILE to contain TEXT.
wait_for() {
    for _ in $(seq 200); do
        grep -qF -- "$2" "$1" 2>/dev/null && return 0
        sleep 0.05
    done
    return 1
}

echo "== start, send, show, list, audit, accepts"
serve chat "$tmp/chat.db" "$chat"
expect_line "$tmp/chat.err" "statenet: creating the store $tmp/chat.db"
expect_http 200 GET /healthz
expect_line "$tmp/out" '{"ok":true}'
expect_http 200 POST /instances '{"id":"s1","data":{"user":"ana"}}'
expect_line "$tmp/out" '{"instance":"s1","event":"start","status":"applied","from":"","to":"session/IDLE","completed":false}'
expect_http 200 POST /instances '{"instances":[{"id":"s2"},{"id":"s3","data":{"user":"bo"}},{"id":"s1"}]}'
expect_contains "$tmp/out" '{"instance":"s2","event":"start","status":"applied"'
expect_contains "$tmp/out" '{"instance":"s3","event":"start","status":"applied"'
expect_contains "$tmp/out" '{"instance":"s1","event":"start","status":"duplicate","first":"applied"'
expect_http 200 POST /instances/s1/events '{"event":"start_update"}'
expect_line "$tmp/out" '{"instance":"s1","event":"start_update","status":"applied","from":"session/IDLE","to":"session/TASK_SELECTION","completed":false}'
expect_http 409 POST /instances/s1/events '{"event":"confirm"}'
expect_contains "$tmp/out" '"status":"rejected"'
expect_contains "$tmp/out" "\"reason\":\"no arc for event 'confirm' in state session/TASK_SELECTION"
expect_http 200 GET /instances/s1/accepts
expect_contains "$tmp/out" '{"instance":"s1","events":['
expect_contains "$tmp/out" '"task_selected"'
expect_absent "$tmp/out" '"confirm"'

echo "== idempotency: header or body key"
expect_http 200 POST /instances/s1/events '{"event":"task_selected","payload":{"task":"T-7"}}' -H 'Idempotency-Key: m1'
expect_contains "$tmp/out" '"status":"applied","key":"m1","from":"session/TASK_SELECTION","to":"session/AWAITING_ACTION"'
expect_http 200 POST /instances/s1/events '{"event":"task_selected","payload":{"task":"T-8"},"key":"m1"}'
expect_contains "$tmp/out" '"status":"duplicate","first":"applied","key":"m1"'
expect_http 400 POST /instances/s1/events '{"event":"task_selected","key":"m2"}' -H 'Idempotency-Key: m3'
expect_contains "$tmp/out" '"code":"bad_request"'
expect_http 200 GET /instances/s1
expect_contains "$tmp/out" '"id":"s1","state":"session/AWAITING_ACTION","completed":false,"version":3'
expect_contains "$tmp/out" '"task":"T-7"'
expect_contains "$tmp/out" '"accepts":["cancel",'
expect_contains "$tmp/out" '"start_collection"'
expect_http 200 GET '/instances?state=IDLE'
expect_contains "$tmp/out" '"id":"s2"'
expect_contains "$tmp/out" '"id":"s3"'
expect_absent "$tmp/out" '"id":"s1"'
expect_http 200 GET '/instances?limit=1'
[[ $(grep -o '"id":' "$tmp/out" | wc -l) -eq 1 ]] || fail "limit=1 listed more than one instance"
expect_http 200 GET '/instances?completed=true'
expect_line "$tmp/out" '{"instances":[]}'
expect_http 200 GET '/instances/s1/audit?limit=2'
expect_contains "$tmp/out" '"event":"confirm","outcome":"rejected"'
expect_contains "$tmp/out" '"event":"task_selected","outcome":"applied"'
expect_absent "$tmp/out" '"event":"start_update"'
expect_http 200 GET '/audit'
expect_contains "$tmp/out" '"instance":"s3"'

echo "== errors"
expect_http 404 POST /instances/nobody/events '{"event":"start_update"}'
expect_line "$tmp/out" "{\"error\":{\"code\":\"not_found\",\"message\":\"no machine instance 'nobody'\"}}"
expect_http 404 GET /instances/nobody
expect_http 404 GET /instances/nobody/audit
expect_http 404 GET /nowhere
expect_contains "$tmp/out" '"message":"no route for GET /nowhere"'
expect_http 400 POST /instances/s1/events '{"event":'
expect_contains "$tmp/out" '"message":"the body is not valid JSON'
expect_http 400 POST /instances/s1/events '{"payload":{}}'
expect_contains "$tmp/out" "\"message\":\"the body needs a non-empty string \\\"event\\\"\""
expect_http 400 POST /instances '{"id":"s9","data":[1]}'
expect_contains "$tmp/out" '"data\" must be a JSON object'
expect_http 400 GET '/instances?limit=x'

echo "== the event stream and metrics"
# Last-Event-ID 0: the stream replays what s1 did before it opened.
curl -sN "$base/events?instance=s1" -H 'Last-Event-ID: 0' >"$tmp/sse.out" &
sse=$!
wait_for "$tmp/sse.out" ': connected' || fail "the event stream did not open"
expect_http 200 POST /instances/s2/events '{"event":"start_update"}'
expect_http 200 POST /instances/s1/events '{"event":"start_collection"}'
wait_for "$tmp/sse.out" '"event":"start_collection"' || fail "no transition on the event stream"
kill "$sse"
expect_contains "$tmp/sse.out" 'data: {"instance":"s1","event":"start_collection","status":"applied","from":"session/AWAITING_ACTION","to":"session/COLLECTING_DATA","completed":false}'
expect_absent "$tmp/sse.out" '"instance":"s2"'
# The chat session's replies are emitted messages: on the stream and in the outbox.
expect_match "$tmp/sse.out" '^data: \{"seq":[0-9]+,"instance":"s1","topic":"reply","event":"task_selected",.*"payload":\{"text":"Updating T-7\.'
expect_http 200 GET '/outbox?topic=reply&limit=1'
expect_contains "$tmp/out" '"payload":{"text":"Which task are you updating?","to":"s1"}'
expect_http 200 GET /metrics
expect_line "$tmp/out" 'statenet_machine_events_total{outcome="applied"} 7'
expect_line "$tmp/out" 'statenet_machine_events_total{outcome="rejected"} 1'
expect_line "$tmp/out" 'statenet_machine_events_total{outcome="duplicate"} 2'
expect_line "$tmp/out" 'statenet_machine_transition_seconds_count 10'
expect_line "$tmp/out" 'statenet_machine_transition_seconds_bucket{le="+Inf"} 10'
expect_line "$tmp/out" 'statenet_machine_instances{state="session/IDLE"} 1'
expect_line "$tmp/out" 'statenet_machine_instances{state="session/COLLECTING_DATA"} 1'
expect_line "$tmp/out" 'statenet_machine_timers_due 0'

echo "== SIGTERM drains and exits 0; the store keeps every acknowledged event"
stop_server TERM
checks=$((checks + 1))
[[ $stopped -eq 0 ]] || fail "serve exited $stopped on SIGTERM, expected 0"
expect_contains "$tmp/chat.err" 'statenet: draining'
serve chat2 "$tmp/chat.db" "$chat"
expect_absent "$tmp/chat2.err" 'creating the store'
expect_http 200 GET /instances/s1
expect_contains "$tmp/out" '"state":"session/COLLECTING_DATA","completed":false,"version":4'
stop_server TERM

echo "== SIGTERM with a request in progress: it finishes and is answered; new connections are refused"
serve slow "$tmp/slow.db" "$root/tests/workflows/serve/slow.toml"
expect_http 200 POST /instances '{"id":"w"}'
curl -s -o "$tmp/slow.reply" -w '%{http_code}' -X POST --data '{"event":"work"}' "$base/instances/w/events" \
    >"$tmp/slow.code" &
slow_request=$!
sleep 0.2
kill -TERM "$pid"
sleep 0.1
expect_http 000 GET /healthz
wait "$slow_request" || true
set +e
wait "$pid" 2>/dev/null
stopped=$?
set -e
checks=$((checks + 3))
[[ $stopped -eq 0 ]] || fail "serve exited $stopped, expected 0"
[[ $(cat "$tmp/slow.code") == 200 ]] || fail "the request in progress was answered $(cat "$tmp/slow.code"), expected 200"
expect_contains "$tmp/slow.reply" '"event":"work","status":"applied"'
[[ $(sqlite3 "$tmp/slow.db" "SELECT json_extract(data, '$.n') FROM statenet_instances WHERE id = 'w'") == 1 ]] ||
    fail "the drained event is not in the store"

echo "== event streams take at most half the workers; a drain ends them"
serve few "$tmp/few.db" "$toggle" --threads 2
curl -sN "$base/events" >"$tmp/few-sse.out" &
sse=$!
wait_for "$tmp/few-sse.out" ': connected' || fail "the event stream did not open"
expect_http 503 GET /events '' --max-time 5
expect_line "$tmp/out" '{"error":{"code":"unavailable","message":"too many event streams (at most 1: half of --threads)"}}'
expect_http 200 POST /instances '{"id":"t1"}'
stop_server TERM
checks=$((checks + 1))
[[ $stopped -eq 0 ]] || fail "serve exited $stopped with an open event stream, expected 0"
wait "$sse" || true

echo "== a timer fires by itself"
serve npc "$tmp/npc.db" "$examples/game-npc/npc.toml"
curl -sN "$base/events" >"$tmp/npc-sse.out" &
sse=$!
wait_for "$tmp/npc-sse.out" ': connected' || fail "the event stream did not open"
expect_http 200 POST /instances '{"id":"n1","data":{"hp":30}}'
# idle moves to patrol after 2000 ms: no tick, no request.
wait_for "$tmp/npc-sse.out" '"event":"after_ms=2000","status":"applied","from":"npc/idle","to":"npc/patrol"' ||
    fail "the idle timer did not fire"
kill "$sse"
expect_http 200 GET /instances/n1/audit
expect_contains "$tmp/out" '"event":"after_ms=2000","outcome":"applied","from":"npc/idle","to":"npc/patrol"'
stop_server TERM

echo "== a bearer token"
export SERVE_TEST_TOKEN=s3cret
serve auth "$tmp/auth.db" "$toggle" --token-env SERVE_TEST_TOKEN
expect_http 401 POST /instances '{"id":"t1"}'
expect_contains "$tmp/out" '"code":"unauthorized"'
expect_http 401 GET /instances '' -H 'Authorization: Bearer wrong'
expect_http 200 GET /healthz
expect_http 200 POST /instances '{"id":"t1"}' -H 'Authorization: Bearer s3cret'
expect_http 200 GET /metrics '' -H 'Authorization: Bearer s3cret'
# One server per store, one per port.
expect_exit 2 "$statenet" machine serve --store "$tmp/auth.db" "$toggle" --listen 127.0.0.1:0
expect_line "$tmp/err" "statenet: error: another statenet machine serve (pid $pid) owns the store $tmp/auth.db"
expect_exit 2 "$statenet" machine serve --store "$tmp/other.db" "$toggle" --listen "${base#http://}"
expect_line "$tmp/err" "statenet: error: cannot listen on ${base#http://}"
stop_server TERM
expect_exit 2 "$statenet" machine serve --store "$tmp/auth.db" "$toggle" --listen 0.0.0.0:0
expect_line "$tmp/err" "statenet: error: refusing to serve 0.0.0.0:0 without a token: use --token-env NAME, a loopback address or --insecure"
expect_exit 2 "$statenet" machine serve --store "$tmp/auth.db" "$toggle" --token-env SERVE_TEST_UNSET_TOKEN
expect_line "$tmp/err" "statenet: error: --token-env: the environment variable SERVE_TEST_UNSET_TOKEN is not set"
expect_exit 2 "$statenet" machine serve --store "$tmp/auth.db" "$toggle" --listen 127.0.0.1
expect_line "$tmp/err" "statenet: error: --listen wants HOST:PORT, not '127.0.0.1'"
expect_exit 2 "$statenet" machine serve --store "$tmp/auth.db" "$toggle" --maintain-every -1
expect_line "$tmp/err" "statenet: error: --maintain-every must be 0 (never) or more seconds"
expect_exit 0 "$statenet" machine serve --help
expect_contains "$tmp/out" 'Usage: statenet machine serve'

echo "== --watch reloads the workflow's Lua"
mkdir -p "$tmp/npc/lua"
cp "$examples/game-npc/npc.toml" "$tmp/npc/"
cp "$examples/game-npc/lua/npc.lua" "$tmp/npc/lua/"
serve watch "$tmp/watch.db" "$tmp/npc/npc.toml" --watch
expect_http 200 POST /instances '{"instances":[{"id":"a","data":{"hp":30}},{"id":"b","data":{"hp":30}}]}'
expect_http 200 POST /instances/a/events '{"event":"see_player"}'
expect_contains "$tmp/out" '"to":"npc/flee"'
sleep 1.1  # a modification time the watch can tell apart
sed -i 's/local courage = 50/local courage = 25/' "$tmp/npc/lua/npc.lua"
wait_for "$tmp/watch.err" "statenet: reloaded $tmp/npc/npc.toml" || fail "no reload"
expect_http 200 POST /instances/b/events '{"event":"see_player"}'
expect_contains "$tmp/out" '"to":"npc/chase"'
stop_server TERM

echo "== the outbox, emitted messages on the stream, pruning by itself"
serve talk "$tmp/talk.db" "$root/tests/workflows/serve/talker.toml" --maintain-every 0.5
curl -sN "$base/events" >"$tmp/talk-sse.out" &
sse=$!
wait_for "$tmp/talk-sse.out" ': connected' || fail "the event stream did not open"
expect_http 200 POST /instances '{"instances":[{"id":"a","data":{"peer":"b"}},{"id":"b","data":{"peer":"a"}}]}'
expect_http 200 POST /instances/a/events '{"event":"work","payload":{"job":"report"}}'
expect_http 200 POST /instances/a/events '{"event":"finish"}'
wait_for "$tmp/talk-sse.out" '"topic":"alerted"' || fail "b's emitted message is not on the stream"
kill "$sse"
expect_match "$tmp/talk-sse.out" '^data: \{"seq":1,"instance":"a","topic":"reply","event":"work","time_ms":[0-9]+,"payload":\{"text":"working on report"\}\}$'
expect_contains "$tmp/talk-sse.out" '"instance":"b","event":"alert","status":"applied"'
expect_http 200 GET '/outbox?topic=reply'
expect_match "$tmp/out" '^\{"messages":\[\{"seq":1,"instance":"a","topic":"reply",.*\}\]\}$'
expect_http 200 GET '/outbox?after=1'
expect_contains "$tmp/out" '"topic":"alerted"'
expect_absent "$tmp/out" '"topic":"reply"'
expect_http 200 POST /outbox/ack '{"seqs":[1]}'
expect_line "$tmp/out" '{"acked":1}'
expect_http 400 POST /outbox/ack '{"seqs":["1"]}'
expect_http 200 GET /outbox
expect_absent "$tmp/out" '"topic":"reply"'
# a completed at once; [retention] completed_ms = 1000: a maintenance pass removes it.
for _ in $(seq 100); do
    code=$(curl -s -o /dev/null -w '%{http_code}' "$base/instances/a")
    [[ $code == 404 ]] && break
    sleep 0.1
done
checks=$((checks + 1))
[[ $code == 404 ]] || fail "the completed instance a was not pruned"
expect_match "$tmp/talk.err" '^statenet: pruned [0-9]+ keys, [0-9]+ audit rows, 1 instances, [0-9]+ outbox messages$'
stop_server TERM

# burst KEYS_FILE: 400 keyed toggles over 8 connections to t1..t20; each line of
# KEYS_FILE is "HTTP_CODE KEY" (000 when the server was gone).
burst() {
    seq 400 | xargs -P 8 -I{} sh -c \
        'printf "%s k{}\n" "$(curl -s -o /dev/null -w "%{http_code}" -H "Content-Type: application/json" \
          --data "{\"event\":\"toggle\",\"key\":\"k{}\"}" "$0/instances/t$(({} % 20 + 1))/events")"' "$base" >"$1"
}
# check_acknowledged KEYS_FILE DB: every key answered 200 is applied exactly once.
check_acknowledged() {
    local acked missing doubled
    acked=$(grep -c '^200 ' "$1" || true)
    missing=0
    for key in $(awk '$1 == 200 { print $2 }' "$1"); do
        [[ $(sqlite3 "$2" "SELECT count(*) FROM statenet_audit WHERE key = '$key' AND outcome = 'applied'") == 1 ]] ||
            missing=$((missing + 1))
    done
    doubled=$(sqlite3 "$2" "SELECT count(*) FROM (SELECT key FROM statenet_audit WHERE key != '' GROUP BY instance, key HAVING count(*) > 1)")
    checks=$((checks + 1))
    last_command="check_acknowledged $1"
    [[ $acked -gt 0 && $missing -eq 0 && $doubled -eq 0 ]] ||
        fail "$acked acknowledged, $missing of them not applied once, $doubled keys applied twice"
    echo "  $acked acknowledged events, all applied once"
}
start_toggles() { expect_http 200 POST /instances "{\"instances\":[$(seq -s, -f '{"id":"t%g","data":{"count":0}}' 1 20)]}"; }

echo "== SIGTERM during a burst: every acknowledged event is applied once"
serve drain "$tmp/drain.db" "$toggle"
start_toggles
burst "$tmp/drain.keys" &
burster=$!
sleep 0.3
stop_server TERM
wait "$burster"
checks=$((checks + 1))
[[ $stopped -eq 0 ]] || fail "serve exited $stopped on SIGTERM during a burst, expected 0"
check_acknowledged "$tmp/drain.keys" "$tmp/drain.db"

echo "== kill -9 during a burst: every acknowledged event is applied once"
serve crash "$tmp/crash.db" "$toggle"
start_toggles
burst "$tmp/crash.keys" &
burster=$!
sleep 0.3
stop_server 9
wait "$burster"
check_acknowledged "$tmp/crash.keys" "$tmp/crash.db"
# After a restart the instances' counts agree with the applied events.
serve crash2 "$tmp/crash.db" "$toggle"
expect_http 200 GET /instances/t1
count=$(sed -E 's/.*"count":([0-9]+).*/\1/' "$tmp/out")
applied=$(sqlite3 "$tmp/crash.db" "SELECT count(*) FROM statenet_audit WHERE instance = 't1' AND event = 'toggle' AND outcome = 'applied'")
checks=$((checks + 1))
[[ $count == "$applied" ]] || fail "t1 counted $count toggles, the audit log has $applied"
stop_server TERM

echo "== push arcs: show, list and tree name the sub-networks an instance is inside"
cat >"$tmp/form.toml" <<'TOML'
name = "form"
[networks.main.states.idle]
start = true
[[networks.main.states.idle.arcs]]
push = "form"
on = "open_form"
return_to = "review"
[networks.main.states.review]
end = true
[networks.form.states.ask]
start = true
[[networks.form.states.ask.arcs]]
to = "filled"
on = "answer"
[networks.form.states.filled]
end = true
TOML
serve form "$tmp/form.db" "$tmp/form.toml"
expect_http 200 POST /instances '{"id":"f1"}'
expect_http 200 POST /instances/f1/events '{"event":"open_form"}'
expect_contains "$tmp/out" '"to":"form/ask"'
expect_http 200 GET /instances/f1
expect_contains "$tmp/out" '"state":"form/ask"'
expect_contains "$tmp/out" '"stack":[{"state":"main/idle","network":"form","return_to":"main/review"}]'
expect_contains "$tmp/out" '"accepts":["answer"]'
expect_http 200 GET /instances
expect_contains "$tmp/out" '"stack":[{"state":"main/idle","network":"form","return_to":"main/review"}]'
expect_http 200 GET /instances/f1/tree
expect_contains "$tmp/out" '"stack":[{"state":"main/idle","network":"form","return_to":"main/review"}]'
expect_http 200 POST /instances/f1/events '{"event":"answer"}'
expect_contains "$tmp/out" '"to":"main/review","completed":true'
expect_http 200 GET /instances/f1
expect_absent "$tmp/out" '"stack"'
stop_server TERM

cli_done
