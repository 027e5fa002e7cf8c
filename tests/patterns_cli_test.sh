#!/usr/bin/env bash
# End-to-end tests of the patterns and recovery strategies through the statenet command
# (examples/recovery, examples/api, examples/llm and stdlib/patterns), against the fake
# API server (tests/servers) on an ephemeral port of 127.0.0.1.
# Usage: tests/patterns_cli_test.sh STATENET_BINARY SOURCE_ROOT FAKE_API_SERVER
set -euo pipefail

statenet=$1
root=$2
server_bin=$3
tmp=$(mktemp -d)
export no_proxy=127.0.0.1  # a proxy from the environment must not see the local traffic
server_pid=
cleanup() {
    local rc=$?
    if [[ -n $server_pid ]]; then
        kill "$server_pid" 2>/dev/null || true
        wait "$server_pid" 2>/dev/null || true
    fi
    rm -rf "$tmp"
    exit "$rc"
}
trap cleanup EXIT
source "$(dirname "$0")/cli_lib.sh"

start_fake_api "$server_bin"
server_pid=$fake_api_pid
base=$fake_api_url
post() { curl -sf -X POST -d '' "$base$1" >/dev/null; }

echo "== examples/recovery: a saga undone in reverse, a cached quote, a fallback, a breaker that opens"
rec=$root/examples/recovery
post /admin/reset
post "/admin/down?on=1"  # the notification service is down
rec_env=(env SHOP_URL="$base" RECOVERY_CACHE="$tmp/quotes.db")
expect_exit 1 "${rec_env[@]}" "$statenet" run "$rec/recovery.toml" -i "$rec/orders.jsonl" -o "$tmp/shipped.jsonl" --errors "$tmp/failed.jsonl" -j 1 --in-flight 1
expect_file "$tmp/shipped.jsonl" "$(cat "$rec/expected.jsonl")"
expect_match "$tmp/err" "$(summary_re 5 4 0 1)"
expect_line "$tmp/err" "statenet: recovery main/quote retry: retries 0"
expect_line "$tmp/err" "statenet: recovery main/quote fallback: used 1"
expect_line "$tmp/err" "statenet: recovery main/quote cache: hits 2, misses 3"
expect_line "$tmp/err" "statenet: recovery main/reserve compensate: ran 1, failed 0"
expect_line "$tmp/err" "statenet: recovery main/charge compensate: ran 1, failed 0"
expect_line "$tmp/err" "statenet: recovery main/charge bulkhead: refused 0"
expect_line "$tmp/err" "statenet: recovery main/charge deadline: exceeded 0"
expect_line "$tmp/err" "statenet: recovery main/notify circuit_breaker: opened 1, refused 2 (open)"
expect_line "$tmp/err" "statenet: recovery main/notify fallback: used 4"
expect_match "$tmp/failed.jsonl" '"name":"NoAddress"'
# The compensations undid order 3's reservation and charge; the others stand.
curl -s "$base/kv" >"$tmp/kv.json"
expect_file "$tmp/kv.json" '{"charge-1":"3","charge-2":"9","charge-4":"3","charge-5":"9","stock-1":"2","stock-2":"1","stock-4":"1","stock-5":"3"}'
# A second run finds every known item's quote in the cache file.
post /admin/reset
expect_exit 1 "${rec_env[@]}" "$statenet" run "$rec/recovery.toml" -i "$rec/orders.jsonl" -o "$tmp/again.jsonl" -j 1 --in-flight 1
expect_line "$tmp/err" "statenet: recovery main/quote cache: hits 4, misses 1"
expect_file "$tmp/again.jsonl" "$(cat "$rec/expected.jsonl")"

echo "== recovery keys: located load errors"
cat >"$tmp/bad.toml" <<TOML
name = "bad"
[networks.main.states.a]
start = true
end = true
retry = { errors = ["*"], backoff = "linaer" }
circuit_breaker = { failures = 0 }
cache = { key = ["id"] }
TOML
expect_exit 2 "$statenet" validate "$tmp/bad.toml"
expect_contains "$tmp/err" "bad.toml:5:37: error: unknown backoff 'linaer' (expected exponential, fixed, linear, random or a number) (did you mean 'linear'?)"
expect_contains "$tmp/err" "bad.toml:6:32: error: 'failures' must be an integer from 1 to 1000000"
expect_contains "$tmp/err" "bad.toml:7:9: error: cache needs 'ttl_ms'"

api=std:api
echo "== examples/api: fanout priced and summed, sequential lookups"
expect_exit 0 env API_URL="$base" "$statenet" run "$api" --param mode=fanout --param "call=$(cat "$root/examples/api/fanout.json")" --param "aggregate=$(cat "$root/examples/api/total.json")" -i "$root/examples/api/carts.jsonl" -o "$tmp/priced.jsonl"
expect_file "$tmp/priced.jsonl" "$(cat "$root/examples/api/expected-fanout.jsonl")"
expect_match "$tmp/err" '^statenet: resource api \(http\): 6 calls, 0 errors, '
expect_exit 0 env API_URL="$base" "$statenet" run "$api" --param "calls=$(cat "$root/examples/api/lookup.json")" -i "$root/examples/api/lines.jsonl" -o "$tmp/quoted.jsonl"
expect_file "$tmp/quoted.jsonl" "$(cat "$root/examples/api/expected-sequential.jsonl")"

echo "== statenet new api: the project runs against the service"
expect_exit 0 "$statenet" new api "$tmp/api-project"
(cd "$tmp/api-project" && API_URL="$base" "$statenet" run api.toml -i carts.jsonl -o priced.jsonl -q) ||
  { echo "the new api project did not run" >&2; exit 1; }
expect_file "$tmp/api-project/priced.jsonl" "$(cat "$root/examples/api/expected-fanout.jsonl")"

echo "== statenet new llm: the project runs against the fake model server"
expect_exit 0 "$statenet" new llm "$tmp/llm-project"
(cd "$tmp/llm-project" && LLM_URL="$base" LLM_MODEL=fake "$statenet" run llm.toml -i questions.jsonl -o answers.jsonl -q) ||
  { echo "the new llm project did not run" >&2; exit 1; }
expect_line "$tmp/llm-project/answers.jsonl" '{"id":1,"question":"Why is the sky blue?","answer":"echo: Answer in one sentence from these facts: echo: List the facts needed to answer: Why is the sky blue?","facts":"echo: List the facts needed to answer: Why is the sky blue?","usage":{"calls":2,"completion_tokens":32,"prompt_tokens":50}}'
expect_contains "$tmp/llm-project/answers.jsonl" '"question":"What makes bread rise?","answer":"echo: Answer in one sentence from these facts: echo: List the facts needed to answer: What makes bread rise?"'

echo "== api: fanout under a rate limit of 5 calls a second"
start=$(date +%s%N)
expect_exit 0 env API_URL="$base" "$statenet" run "$api" --param mode=fanout --param rate_per_s=5 --param 'call={"path":"/items/{{value}}","map":{"price":"json.price"}}' --data '{"items":[1,2,3,4,5,6,7,8,9,10,11]}'
elapsed_ms=$(( ($(date +%s%N) - start) / 1000000 ))
# 11 calls at 5/s with a bucket of 5: the last waits at least 6 * 200 ms.
checks=$((checks + 1)); (( elapsed_ms >= 1150 )) || fail "11 rate-limited calls took only $elapsed_ms ms"
expect_contains "$tmp/out" '"price": 16.5'
expect_exit 2 env API_URL="$base" "$statenet" run "$api" --param rate_per_s=fast --data '{}'
expect_contains "$tmp/err" "rate_per_s"

echo "== api: parallel calls, conditional calls, a failing fanout item"
expect_exit 0 env API_URL="$base" "$statenet" run "$api" --param mode=parallel --param 'calls=[{"name":"slow","path":"/delay/100"},{"name":"item","path":"/items/{{id}}","map":{"name":"json.name"}}]' --data '{"id":5}'
expect_contains "$tmp/out" '"slept": 100'
expect_contains "$tmp/out" '"name": "item-5"'
expect_exit 0 env API_URL="$base" "$statenet" run "$api" --param mode=conditional --param 'calls=[{"name":"a","path":"/items/1","when":"want_a"},{"name":"b","path":"/items/2","when":"want_b"}]' --data '{"want_b":true}'
expect_contains "$tmp/out" '"name": "item-2"'
expect_absent "$tmp/out" '"item-1"'
expect_exit 1 env API_URL="$base" "$statenet" run "$api" --param mode=fanout --param 'call={"path":"/items/{{value}}"}' --data '{"items":[1,404]}'
expect_contains "$tmp/out" '"name": "MapFailed"'
expect_exit 1 env API_URL="$base" "$statenet" run "$api" --param mode=teleport --data '{}'
expect_contains "$tmp/out" "unknown mode 'teleport'"

llm=std:llm
ex=$root/examples/llm
llm_env=(env LLM_URL="$base" LLM_MODEL=fake LLM_STORE="$tmp/llm.vec.db" TOOLS_URL="$base")
echo "== examples/llm: simple with a schema, chain, cot"
expect_exit 0 "${llm_env[@]}" "$statenet" run "$llm" --param "schema=$(cat "$ex/schema.json")" -i "$ex/topics.jsonl" -o "$tmp/simple.jsonl"
expect_file "$tmp/simple.jsonl" "$(cat "$ex/expected-simple.jsonl")"
expect_match "$tmp/err" '^statenet: resource llm \(llm\): 2 calls, 0 errors, .* tokens 11 prompt \+ 11 completion$'
expect_exit 0 "${llm_env[@]}" "$statenet" run "$llm" --param mode=chain --param "steps=$(cat "$ex/chain.json")" -i "$ex/topics.jsonl" -o "$tmp/chain.jsonl"
expect_file "$tmp/chain.jsonl" "$(cat "$ex/expected-chain.jsonl")"
expect_exit 0 "${llm_env[@]}" "$statenet" run "$llm" --param mode=cot -i "$ex/topics.jsonl" -o "$tmp/cot.jsonl"
expect_file "$tmp/cot.jsonl" "$(cat "$ex/expected-cot.jsonl")"
echo "== llm: an answer that does not fit the schema fails with InvalidOutput"
expect_exit 1 "${llm_env[@]}" "$statenet" run "$llm" --param 'schema={"type":"object","properties":{"words":{"type":"integer","maximum":2}}}' --data '{"question":"three words here"}'
expect_contains "$tmp/out" '"message": "the answer does not fit the schema: $.words: 3 is above the maximum 2"'

echo "== examples/llm: rag answers cite the right document"
expect_exit 0 "${llm_env[@]}" "$statenet" run "$llm" --param mode=rag -i "$ex/documents.jsonl" -o "$tmp/indexed.jsonl" --in-flight 1
expect_match "$tmp/err" "$(summary_re 3 3 0 0)"
expect_exit 0 "${llm_env[@]}" "$statenet" run "$llm" --param mode=rag --param top_k=1 -i "$ex/questions.jsonl" -o "$tmp/rag.jsonl"
expect_file "$tmp/rag.jsonl" "$(cat "$ex/expected-rag.jsonl")"
expect_contains "$tmp/rag.jsonl" '"cited":["tides"]'
expect_contains "$tmp/rag.jsonl" '"cited":["bees"]'

echo "== examples/llm: an agent calls a tool, then answers; a step limit stops it"
expect_exit 0 "${llm_env[@]}" "$statenet" run "$llm" --param mode=agent --param "tools=$(cat "$ex/tools.json")" -i "$ex/agent.jsonl" -o "$tmp/agent.jsonl"
expect_file "$tmp/agent.jsonl" "$(cat "$ex/expected-agent.jsonl")"
expect_exit 1 "${llm_env[@]}" "$statenet" run "$llm" --param mode=agent --param max_steps=1 --param "tools=$(cat "$ex/tools.json")" -i "$ex/agent.jsonl" -o "$tmp/none.jsonl"
expect_contains "$tmp/err" "StepLimit: the agent did not answer within max_steps = 1 model calls"
expect_exit 1 "${llm_env[@]}" "$statenet" run "$llm" --param mode=agent --data '{"question":"use tool nothing with 1"}'
expect_contains "$tmp/out" "\"name\": \"UnknownTool\""

echo "== std.db, std.enrich, std.files on a SQLite database and a files root"
mkdir -p "$tmp/lib"
cat >"$tmp/lib/lib.toml" <<'TOML'
name = "lib"
[resources.out]
type = "files"
root = "out"
create = true
[resources.db]
type = "sqlite"
path = "lib.db"
[networks.main.states.save]
start = true
resources = ["out", "db"]
transform = [
  { lua = "ctx.resources.db.exec('CREATE TABLE IF NOT EXISTS t (id INTEGER PRIMARY KEY, name TEXT, n REAL)') return nil" },
  { fn = "std.db.upsert", args = { resource = "db", table = "t", key = "id", fields = ["id", "name", "n"] } },
  { fn = "std.db.fetch", args = { resource = "db", query = "SELECT count(*) AS c FROM t WHERE id <= ?", params = ["id"], into = "count", one = true } },
  { fn = "std.files.write", args = { resource = "out", path = "rec-{{id}}.json" } },
  { fn = "std.files.write", args = { resource = "out", path = "all.jsonl", format = "jsonl", append = true } },
  { fn = "std.enrich.lookup", args = { resource = "db", query = "SELECT name FROM t WHERE id = ?", key = "id", fields = { looked = "name" } } },
]
[[networks.main.states.save.arcs]]
to = "load"
[networks.main.states.load]
end = true
resources = ["out"]
transform = { fn = "std.files.read", args = { resource = "out", path = "rec-{{id}}.json", into = "back" } }
TOML
printf '{"id":1,"name":"a","n":1.5}\n{"id":2,"name":"b","n":2}\n' >"$tmp/lib/in.jsonl"
expect_exit 0 "$statenet" run "$tmp/lib/lib.toml" -i "$tmp/lib/in.jsonl" -o "$tmp/lib/out.jsonl" -j 1
expect_file "$tmp/lib/out.jsonl" '{"id":1,"name":"a","n":1.5,"back":{"count":{"c":1},"id":1,"n":1.5,"name":"a"},"count":{"c":1},"looked":"a"}
{"id":2,"name":"b","n":2,"back":{"count":{"c":2},"id":2,"n":2,"name":"b"},"count":{"c":2},"looked":"b"}'
expect_file "$tmp/lib/out/all.jsonl" '{"count":{"c":1},"id":1,"n":1.5,"name":"a"}
{"count":{"c":2},"id":2,"n":2,"name":"b"}'
[[ $(sqlite3 "$tmp/lib/lib.db" "SELECT group_concat(name) FROM t") == "a,b" ]] || fail "the rows were not upserted"

cli_done
