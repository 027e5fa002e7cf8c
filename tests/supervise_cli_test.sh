#!/usr/bin/env bash
# End-to-end tests of supervision through `statenet machine` (tick, tree, serve's tree
# route) on the protocol-converter and game-squad examples.
# Usage: tests/supervise_cli_test.sh STATENET_BINARY SOURCE_ROOT
set -euo pipefail

statenet=$1
examples=$2/examples
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
source "$(dirname "$0")/cli_lib.sh"

conv=$examples/protocol-converter
db=$tmp/conv.db
converter() { "$statenet" machine "$1" --store "$db" "$conv/converter.lua" "${@:2}"; }
connection() { "$statenet" machine "$1" --store "$tmp/conv.connection.db" "$conv/connection.lua" "${@:2}"; }

echo "== protocol converter: a tick starts the connection and the flows"
expect_exit 0 converter start c1 --now 1000 --data '{"host":"10.0.0.5","port":502,"site":"plant-a","flows":["temp"]}'
expect_exit 0 converter tick --now 1000
expect_line "$tmp/out" '{"started":2,"updated":0,"stopping":0,"removed":0,"forced":0,"mapped":0,"restarted":0,"escalated":0,"held":0,"timers":0,"errors":[]}'
expect_exit 0 converter tree c1
expect_contains "$tmp/out" '"id": "c1/connection"'
expect_contains "$tmp/out" '"address": "10.0.0.5:502"'
expect_contains "$tmp/out" '"topic": "umh/eu-1/plant-a/temp"'
expect_contains "$tmp/out" '"state": "connection/down"'

echo "== start maps the children; a new port reaches the connection without a restart"
expect_exit 0 converter send c1 start --now 2000
expect_exit 0 converter send c1 configure --payload '{"port":503}' --now 2000
expect_exit 0 converter tick --now 2000
expect_contains "$tmp/out" '"updated":1'
expect_contains "$tmp/out" '"mapped":2'
expect_exit 0 connection show c1/connection
expect_contains "$tmp/out" '"state": "connection/up"'
expect_contains "$tmp/out" '"address": "10.0.0.5:503"'

echo "== the flow's timers fire in the tick"
expect_exit 0 converter tick --now 3500
expect_contains "$tmp/out" '"timers":1'

echo "== a crashed connection restarts; a third crash escalates"
for now in 4000 5000; do
  expect_exit 0 connection send c1/connection crash --now $now
  expect_exit 0 converter tick --now $now
  expect_contains "$tmp/out" '"restarted":1'
done
expect_exit 0 connection send c1/connection crash --now 6000
expect_exit 0 converter tick --now 6000
expect_contains "$tmp/out" '"escalated":1'
expect_exit 0 converter show c1
expect_contains "$tmp/out" '"state": "converter/degraded"'
expect_exit 0 converter tree c1
expect_contains "$tmp/out" '"status": "failed"'

echo "== a strict template error is reported, exit 1"
squad=$examples/game-squad
sdb=$tmp/squad.db
squadm() { "$statenet" machine "$1" --store "$sdb" "$squad/squad.lua" "${@:2}"; }
expect_exit 0 squadm start alpha --now 1000 --data '{"members":["ana"],"weapon":"bow"}'
expect_exit 1 squadm tick --now 1000
expect_contains "$tmp/out" "alpha: child 'ana': template '{{ user.formation }}' names an unknown variable 'user.formation'"
expect_exit 0 squadm send alpha order --payload '{"formation":"wedge"}' --now 1000
expect_exit 0 squadm tick --now 1000
expect_contains "$tmp/out" '"started":1'
expect_exit 0 squadm send alpha enemy_spotted --now 1000
expect_exit 0 squadm tick --now 1000
expect_exit 0 squadm tree alpha
expect_contains "$tmp/out" '"state": "npc/fight"'
expect_contains "$tmp/out" '"weapon": "bow"'

echo "== tree of an unknown instance"
expect_exit 2 converter tree nobody
expect_line "$tmp/err" "statenet: error: no machine instance 'nobody'"

echo "== serve: GET /instances/{id}/tree"
"$statenet" machine serve --store "$db" "$conv/converter.lua" --listen 127.0.0.1:0 >"$tmp/serve.out" 2>"$tmp/serve.err" &
server=$!
for _ in $(seq 100); do [ -s "$tmp/serve.out" ] && break; sleep 0.05; done
address=$(head -1 "$tmp/serve.out")
curl -s "$address/instances/c1/tree" >"$tmp/out"
expect_contains "$tmp/out" '"id":"c1/flow-temp"'
expect_contains "$tmp/out" '"status":"failed"'
curl -s -o /dev/null -w '%{http_code}' "$address/instances/nobody/tree" >"$tmp/out"
expect_line "$tmp/out" "404"
kill -TERM $server
wait $server

echo "== serve --watch reloads a changed child workflow: state mapping follows its new arc"
cp -r "$conv" "$tmp/pc"
wdb=$tmp/watch.db
"$statenet" machine start --store "$wdb" "$tmp/pc/converter.lua" w1 \
    --data '{"host":"h","port":1,"site":"s","flows":[]}' >/dev/null
"$statenet" machine serve --store "$wdb" "$tmp/pc/converter.lua" --listen 127.0.0.1:0 --watch \
    >"$tmp/watch.out" 2>"$tmp/watch.err" &
server=$!
in_file() {  # in_file FILE TEXT: waits up to 10 s for TEXT to appear in FILE
    for _ in $(seq 200); do
        grep -qF -- "$2" "$1" 2>/dev/null && return 0
        sleep 0.05
    done
    return 1
}
in_tree() {  # in_tree TEXT: waits up to 10 s for TEXT in w1's tree
    for _ in $(seq 200); do
        curl -s "$address/instances/w1/tree" >"$tmp/tree" 2>/dev/null || true
        grep -qF -- "$1" "$tmp/tree" && return 0
        sleep 0.05
    done
    return 1
}
in_file "$tmp/watch.out" "http://" || fail "serve --watch did not start: $(cat "$tmp/watch.err")"
address=$(head -1 "$tmp/watch.out")
in_tree '"state":"connection/down"' || fail "no connection child: $(cat "$tmp/tree")"
sleep 1.1  # a modification time the watch can tell apart
sed -i 's/on = "connect"/on = "link_up"/' "$tmp/pc/connection.lua"
in_file "$tmp/watch.err" "reloaded child workflow 'connection'" || fail "no child reload: $(cat "$tmp/watch.err")"
curl -s -o /dev/null -X POST --data '{"event":"start"}' "$address/instances/w1/events"
in_tree '"state":"connection/up"' || fail "the connection was not mapped up: $(cat "$tmp/tree")"
kill -TERM $server
wait $server
"$statenet" machine show --store "$tmp/watch.connection.db" "$tmp/pc/connection.lua" w1/connection --audit 10 \
    >"$tmp/out"
expect_contains "$tmp/out" 'link_up'
echo "supervise-cli: ok"
