#!/usr/bin/env bash
# End-to-end tests of `statenet machine` on the chat-session and game-npc examples.
# Usage: tests/machine_cli_test.sh STATENET_BINARY SOURCE_ROOT
set -euo pipefail

statenet=$1
examples=$2/examples
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
source "$(dirname "$0")/cli_lib.sh"

chat=$examples/chat-session/chat_session.lua
db=$tmp/chat.db
minute=60000
machine() { "$statenet" machine "$1" --store "$db" "$chat" "${@:2}"; }

echo "== machine start / send / show"
expect_exit 0 machine start s1 --data '{"user":"ana"}' --now 1000
expect_line "$tmp/out" '{"instance":"s1","event":"start","status":"applied","from":"","to":"session/IDLE","completed":false}'
expect_exit 0 machine start s1 --now 1000
expect_contains "$tmp/out" '"status":"duplicate","first":"applied"'
expect_exit 0 machine send s1 start_update --now 2000
expect_line "$tmp/out" '{"instance":"s1","event":"start_update","status":"applied","from":"session/IDLE","to":"session/TASK_SELECTION","completed":false}'
expect_exit 1 machine send s1 confirm --now 3000
expect_contains "$tmp/out" '"status":"rejected"'
expect_contains "$tmp/out" '"reason":"no arc for event '"'"'confirm'"'"' in state session/TASK_SELECTION; it accepts: cancel, force_abandon, message, reset, task_selected, timeout"'
expect_exit 0 machine send s1 task_selected --payload '{"task":"T-7"}' --key m1 --now 4000
expect_contains "$tmp/out" '"to":"session/AWAITING_ACTION"'
expect_exit 0 machine send s1 task_selected --payload '{"task":"T-8"}' --key m1 --now 5000
expect_contains "$tmp/out" '"status":"duplicate","first":"applied","key":"m1"'
expect_exit 0 machine show s1
expect_contains "$tmp/out" '"state": "session/AWAITING_ACTION"'
expect_contains "$tmp/out" '"task": "T-7"'
expect_contains "$tmp/out" '"outcome": "rejected"'
expect_contains "$tmp/out" '"version": 3'
expect_exit 2 machine send nobody start_update
expect_line "$tmp/err" "statenet: error: no machine instance 'nobody'"
expect_exit 2 machine show nobody
expect_line "$tmp/err" "statenet: error: no machine instance 'nobody'"
expect_exit 2 machine send s1 message --payload '{"text":'
expect_match "$tmp/err" '^statenet: error: --payload is not valid JSON'

echo "== machine tick: the clarification timer"
expect_exit 0 machine send s1 message --payload '{"text":"help"}' --now 10000
expect_contains "$tmp/out" '"to":"session/CLARIFICATION"'
expect_exit 0 machine tick --now $((10000 + 5 * minute - 1))
expect_file "$tmp/out" ''
expect_exit 0 machine tick --now $((10000 + 5 * minute))
expect_line "$tmp/out" '{"instance":"s1","event":"after_ms=300000","status":"applied","from":"session/CLARIFICATION","to":"session/ABANDONED","completed":true}'
expect_exit 1 machine send s1 start_update
expect_contains "$tmp/out" '"reason":"the instance is completed (in end state session/ABANDONED)"'

echo "== machine recover and list"
expect_exit 0 machine start s2 --now 1000
expect_exit 0 machine start s3 --now $((30 * minute))
expect_exit 0 machine recover --now $((31 * minute + 1001))
expect_line "$tmp/out" '{"instance":"s2","event":"timeout","status":"applied","from":"session/IDLE","to":"session/ABANDONED","completed":true}'
expect_absent "$tmp/out" '"s3"'
expect_exit 0 machine list --state ABANDONED
expect_contains "$tmp/out" '"id":"s1"'
expect_contains "$tmp/out" '"id":"s2"'
expect_absent "$tmp/out" '"id":"s3"'
expect_exit 0 machine list --active
expect_contains "$tmp/out" '"id":"s3","state":"session/IDLE"'
expect_absent "$tmp/out" '"id":"s1"'

echo "== machine send --events"
cat >"$tmp/events.jsonl" <<'JSONL'
{"id":"s3","event":"start_update","key":"a"}
{"id":"s3","event":"start_update","key":"a"}

{"id":"s3","event":"message","payload":{"text":"task 2"}}
JSONL
expect_exit 0 machine send --events "$tmp/events.jsonl" --now $((40 * minute))
expect_contains "$tmp/out" '"event":"start_update","status":"applied"'
expect_contains "$tmp/out" '"event":"start_update","status":"duplicate"'
expect_contains "$tmp/out" '"to":"session/AWAITING_ACTION"'
printf '{"id":"s3"}\n' >"$tmp/bad.jsonl"
expect_exit 2 machine send --events "$tmp/bad.jsonl"
expect_line "$tmp/err" "statenet: error: $tmp/bad.jsonl:1: an event line needs string \"id\" and \"event\""
expect_exit 2 machine send --events "$tmp/events.jsonl" s3

echo "== machine errors and help"
printf 'name = "bad"\n[networks.main.states.a]\nstart = true\n[[networks.main.states.a.arcs]]\nto = "a"\nafter_ms = "soon"\n' >"$tmp/bad.toml"
expect_exit 2 "$statenet" machine start --store "$db" "$tmp/bad.toml" x
expect_line "$tmp/err" "statenet: error: $tmp/bad.toml:6:12: 'after_ms' must be a number, not a string"
expect_exit 2 "$statenet" machine start "$chat" x
expect_match "$tmp/err" '^statenet: error: .*--store'
expect_exit 2 "$statenet" machine start --store "$tmp/no/such/dir/x.db" "$chat" x
expect_match "$tmp/err" "^statenet: error: machine store '$tmp/no/such/dir/x.db': unable to open database file"
for command in start send show list tick recover outbox ack prune; do
    expect_exit 0 "$statenet" machine "$command" --help
    expect_contains "$tmp/out" "Usage: statenet machine $command"
done

echo "== machine start takes many ids; times are whole milliseconds"
expect_exit 0 machine start m1 m2 m3
expect_contains "$tmp/out" '"instance":"m1","event":"start","status":"applied"'
expect_contains "$tmp/out" '"instance":"m3","event":"start","status":"applied"'
expect_exit 0 machine show m2
expect_match "$tmp/out" '^  "since_ms": [0-9]+,$'
expect_contains "$tmp/out" '"accepts": ['

echo "== a store that does not exist is an error, not a new empty store"
for command in list tick "show m1"; do
    # shellcheck disable=SC2086
    expect_exit 2 "$statenet" machine $command --store "$tmp/typo.db" "$chat"
    expect_line "$tmp/err" "statenet: error: machine store '$tmp/typo.db' does not exist"
done
[[ ! -e "$tmp/typo.db" ]] || fail "the typo store was created"

echo "== show and list work when the workflow's Lua does not load"
mkdir -p "$tmp/broken"
cp "$examples/chat-session/"*.lua "$tmp/broken/"
echo 'this is not lua' >>"$tmp/broken/chat_rules.lua"
expect_exit 0 "$statenet" machine show --store "$db" "$tmp/broken/chat_session.lua" s3
expect_contains "$tmp/out" '"state": "session/AWAITING_ACTION"'
expect_match "$tmp/err" '^statenet: error: the workflow does not load; showing the store as it is'
expect_exit 0 "$statenet" machine list --store "$db" "$tmp/broken/chat_session.lua"
expect_contains "$tmp/out" '"id":"s3"'
expect_exit 2 "$statenet" machine send --store "$db" "$tmp/broken/chat_session.lua" s3 confirm
expect_match "$tmp/err" 'chat_rules.lua'

echo "== send --events from a pipe applies each event as it arrives"
mkfifo "$tmp/pipe"
machine send --events "$tmp/pipe" >"$tmp/pipe.out" 2>"$tmp/pipe.err" &
sender=$!
exec 4>"$tmp/pipe"
echo '{"id":"m1","event":"start_update"}' >&4
for _ in $(seq 100); do [[ -s "$tmp/pipe.out" ]] && break; sleep 0.1; done
cp "$tmp/pipe.out" "$tmp/out"
last_command="machine send --events PIPE (one event written, the pipe still open)"
expect_contains "$tmp/out" '"instance":"m1","event":"start_update","status":"applied"'
kill -9 "$sender"
wait "$sender" 2>/dev/null || true
exec 4>&-
expect_exit 0 machine show m1
expect_contains "$tmp/out" '"state": "session/TASK_SELECTION"'

echo "== outbox, ack and prune"
cat >"$tmp/talk.toml" <<'TOML'
name = "talk"
[retention]
completed_ms = 1000
[networks.main.states.idle]
start = true
[[networks.main.states.idle.arcs]]
to = "done"
on = "say"
transform = { lua = "ctx.emit('reply', { text = ctx.event.text })" }
[networks.main.states.done]
end = true
TOML
talk() { "$statenet" machine "$1" --store "$tmp/talk.db" "$tmp/talk.toml" "${@:2}"; }
expect_exit 0 talk start t1 t2 --now 1000
expect_exit 0 talk send t1 say --payload '{"text":"hi"}' --now 2000
expect_exit 0 talk send t2 say --payload '{"text":"bye"}' --now 2000
expect_exit 0 talk outbox
expect_line "$tmp/out" '{"seq":1,"instance":"t1","topic":"reply","event":"say","time_ms":2000,"payload":{"text":"hi"}}'
expect_line "$tmp/out" '{"seq":2,"instance":"t2","topic":"reply","event":"say","time_ms":2000,"payload":{"text":"bye"}}'
expect_exit 0 talk ack 1
expect_line "$tmp/out" '{"acked":1}'
expect_exit 0 talk outbox --topic reply
expect_absent "$tmp/out" '"seq":1,'
expect_exit 0 talk prune --now 2500
expect_line "$tmp/out" '{"keys":0,"audit":0,"instances":0,"outbox":1}'
expect_exit 0 talk prune --now 3001
expect_line "$tmp/out" '{"keys":0,"audit":0,"instances":2,"outbox":0}'
expect_exit 0 talk list
expect_file "$tmp/out" ''

echo "== push arcs: an instance waits inside a sub-network; its stack outlives each process"
cat >"$tmp/form.toml" <<'TOML'
name = "form"
[networks.main.states.idle]
start = true
[[networks.main.states.idle.arcs]]
push = "form"
on = "open_form"
return_to = "review"
[networks.main.states.review]
[[networks.main.states.review.arcs]]
to = "done"
on = "accept"
[networks.main.states.done]
end = true
[networks.form.states.ask_name]
start = true
[[networks.form.states.ask_name.arcs]]
to = "filled"
on = "name"
transform = { lua = "data.name = ctx.event.name" }
[networks.form.states.filled]
end = true
TOML
form() { "$statenet" machine "$1" --store "$tmp/form.db" "$tmp/form.toml" "${@:2}"; }
expect_exit 0 form start f1 --data '{"user":"ana"}'
expect_exit 0 form send f1 open_form
expect_line "$tmp/out" '{"instance":"f1","event":"open_form","status":"applied","from":"main/idle","to":"form/ask_name","completed":false}'
expect_exit 0 form list
expect_match "$tmp/out" '^\{"id":"f1","state":"form/ask_name","completed":false,"version":2,"since_ms":[0-9]+,"stack":\[\{"state":"main/idle","network":"form","return_to":"main/review"\}\],"data":\{"user":"ana"\}\}$'
expect_exit 0 form show f1
expect_contains "$tmp/out" '"accepts": ['
expect_contains "$tmp/out" '"return_to": "main/review"'
expect_exit 1 form send f1 accept
expect_contains "$tmp/out" '"reason":"no arc for event '"'"'accept'"'"' in state form/ask_name; it accepts: name"'
expect_exit 0 form send f1 name --payload '{"name":"Ana"}'
expect_line "$tmp/out" '{"instance":"f1","event":"name","status":"applied","from":"form/ask_name","to":"main/review","completed":false}'
expect_exit 0 form show f1
expect_contains "$tmp/out" '"name": "Ana"'
expect_absent "$tmp/out" '"stack"'

echo "== machine send --watch: hot reload between events"
mkdir -p "$tmp/npc/lua"
cp "$examples/game-npc/npc.toml" "$tmp/npc/"
cp "$examples/game-npc/lua/npc.lua" "$tmp/npc/lua/"
npc() { "$statenet" machine "$1" --store "$tmp/npc.db" "$tmp/npc/npc.toml" "${@:2}"; }
expect_exit 0 npc start n1 --data '{"hp":30}'
expect_exit 0 npc start n2 --data '{"hp":30}'
mkfifo "$tmp/fifo"
npc send --events "$tmp/fifo" --watch >"$tmp/watch.out" 2>"$tmp/watch.err" &
watcher=$!
exec 3>"$tmp/fifo"
echo '{"id":"n1","event":"see_player"}' >&3
for _ in $(seq 100); do [[ -s "$tmp/watch.out" ]] && break; sleep 0.1; done
sed -i 's/local courage = 50/local courage = 25/' "$tmp/npc/lua/npc.lua"
echo '{"id":"n2","event":"see_player"}' >&3
exec 3>&-
set +e
wait "$watcher"
status=$?
set -e
cp "$tmp/watch.out" "$tmp/out"
cp "$tmp/watch.err" "$tmp/err"
last_command="machine send --events FIFO --watch"
checks=$((checks + 1))
[[ $status -eq 0 ]] || fail "exit status $status, expected 0"
expect_contains "$tmp/out" '"instance":"n1","event":"see_player","status":"applied","from":"npc/idle","to":"npc/flee"'
expect_contains "$tmp/out" '"instance":"n2","event":"see_player","status":"applied","from":"npc/idle","to":"npc/chase"'
expect_line "$tmp/err" "statenet: reloaded $tmp/npc/npc.toml"

cli_done
