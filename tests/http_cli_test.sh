#!/usr/bin/env bash
# End-to-end tests of the http and llm resources through the statenet command, against
# the fake API server (tests/servers) started here on an ephemeral port of 127.0.0.1.
# Usage: tests/http_cli_test.sh STATENET_BINARY SOURCE_ROOT FAKE_API_SERVER
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

echo "== examples/api-enrich: a stream priced from the API, an unknown item routed by on_error"
enrich=$root/examples/api-enrich
expect_exit 0 env CATALOG_URL="$base" "$statenet" run "$enrich/api-enrich.toml" -i "$enrich/orders.jsonl" -o "$tmp/priced.jsonl" -j 2
expect_file "$tmp/priced.jsonl" "$(cat "$root/examples/api-enrich/expected.jsonl")"
expect_match "$tmp/err" "$(summary_re 5 5 0 0)"
expect_match "$tmp/err" '^statenet: resource catalog \(http\): 5 calls, 1 errors, 0 retries, latency avg [0-9.]+ ms max [0-9.]+ ms, breaker closed$'

echo "== examples/rag: documents embedded into a vector store, questions answered from what it retrieves"
rag=$root/examples/rag
rag_env=(env LLM_URL="$base" RAG_STORE="$tmp/rag.vec.db")
# One at a time: the fake embeddings (bags of words) give some documents equal scores,
# and the store returns equal scores in the order the vectors were added.
expect_exit 0 "${rag_env[@]}" "$statenet" run "$rag/rag.toml" -i "$rag/documents.jsonl" -o "$tmp/indexed.jsonl" --history "$tmp/rag-history.db" --in-flight 1
expect_match "$tmp/err" "$(summary_re 5 5 0 0)"
expect_match "$tmp/err" '^statenet: resource llm \(llm\): 5 calls, 0 errors, 0 retries, .* breaker closed, tokens 71 prompt \+ 0 completion$'
expect_match "$tmp/err" '^statenet: resource docs \(vector\): 5 calls, 0 errors, latency avg [0-9.]+ ms max [0-9.]+ ms, health ok$'
expect_exit 0 "${rag_env[@]}" "$statenet" run "$rag/rag.toml" -i "$rag/questions.jsonl" -o "$tmp/rag-answers.jsonl" --history "$tmp/rag-history.db"
expect_file "$tmp/rag-answers.jsonl" "$(cat "$rag/expected.jsonl")"
# The history keeps each run's resource calls and tokens (the answers are in flight
# together: which question is #8 varies).
expect_exit 0 "$statenet" history list --db "$tmp/rag-history.db"
expect_match "$tmp/out" '^ +#8 .* main/answer +[0-9.]+ [mu]?s +3 +5[67]\+3[67] *$'
expect_exit 0 "$statenet" history show '#8' --db "$tmp/rag-history.db"
expect_match "$tmp/out" '^resources  llm \(llm\) 2 calls, 0 errors, '
expect_match "$tmp/out" '^           docs \(vector\) 1 call, 0 errors, '
expect_match "$tmp/out" '^usage      5[67] prompt \+ 3[67] completion tokens$'
expect_exit 0 "$statenet" history stats --db "$tmp/rag-history.db"
expect_match "$tmp/out" '^llm \(llm\) +11 +0 '
expect_line "$tmp/out" "tokens: 241 prompt + 110 completion tokens"

echo "== an unreachable API: the breaker opens, later records fail fast with CircuitOpen"
cat >"$tmp/down.toml" <<TOML
name = "down"
[resources.api]
type = "http"
base_url = "http://127.0.0.1:1"
retries = 0
breaker_failures = 2
[networks.main.states.call]
start = true
end = true
transform = { lua = "ctx.resources.api:get('/x')" }
TOML
printf '{"n":1}\n{"n":2}\n{"n":3}\n' >"$tmp/three.jsonl"
# One record at a time: in flight together, all three would start before the breaker opens.
expect_exit 1 "$statenet" run "$tmp/down.toml" -i "$tmp/three.jsonl" -o "$tmp/none.jsonl" --in-flight 1
expect_match "$tmp/err" '^statenet: record 1 failed: HttpError: .*/down.toml:10: api: GET /x: connection failed after 1 attempt\(s\): '
expect_line "$tmp/err" "statenet: record 3 failed: CircuitOpen: $tmp/down.toml:10: api: GET /x: circuit breaker open after 2 consecutive failures"
expect_match "$tmp/err" '^statenet: resource api \(http\): 3 calls, 3 errors, 0 retries, .* breaker open$'

echo "== llm: --data prints the record's token usage; the summary sums it"
cat >"$tmp/llm.toml" <<TOML
name = "ask"
[resources.llm]
type = "llm"
base_url = "$base"
model = "fake-model"
prompt = "Tell me about {{topic}}"
[networks.main.states.ask]
start = true
end = true
transform = { lua = "data.answer = ctx.resources.llm:chat(data).text" }
TOML
expect_exit 0 "$statenet" run "$tmp/llm.toml" --data '{"topic":"owls"}'
expect_contains "$tmp/out" '"answer": "echo: Tell me about owls"'
expect_contains "$tmp/out" '"prompt_tokens": 4'
printf '{"topic":"owls"}\n{"topic":"snow leopards"}\n' >"$tmp/topics.jsonl"
expect_exit 0 "$statenet" run "$tmp/llm.toml" -i "$tmp/topics.jsonl" -o "$tmp/answers.jsonl"
expect_match "$tmp/err" '^statenet: resource llm \(llm\): 2 calls, 0 errors, .* tokens 9 prompt \+ 11 completion$'

echo "== validate: a missing secret variable is a located load error"
cat >"$tmp/secret.toml" <<TOML
name = "secret"
[resources.api]
type = "http"
base_url = "$base"
auth = { type = "bearer", token_env = "STATENET_NO_SUCH_TOKEN" }
[networks.main.states.s]
start = true
end = true
TOML
expect_exit 2 env -u STATENET_NO_SUCH_TOKEN "$statenet" validate "$tmp/secret.toml"
expect_contains "$tmp/err" "secret.toml:5:39: error: environment variable 'STATENET_NO_SUCH_TOKEN' is not set"

echo "== records in flight share a SQLite database: one waiting for another's write lock yields"
cat >"$tmp/ledger.toml" <<TOML
name = "ledger"
in_flight = 8
[resources.db]
type = "sqlite"
path = "ledger.db"
busy_timeout_ms = 2000
[resources.api]
type = "http"
base_url = "$base"
[networks.main.states.book]
start = true
end = true
resources = ["db", "api"]
transform = { lua = """
ctx.resources.db:exec("CREATE TABLE IF NOT EXISTS entries (id INTEGER PRIMARY KEY)")
ctx.resources.db:insert("entries", { id = data.id })
data.slept = ctx.resources.api:get("/delay/150").json.slept
""" }
TOML
for i in $(seq 8); do echo "{\"id\":$i}"; done >"$tmp/ledger.jsonl"
# Each record holds the write lock while it waits 150 ms on the API; the others wait
# their turn without blocking the worker (blocking it would keep the holder from ever
# finishing: every record after the first would fail with "database is locked").
expect_exit 0 "$statenet" run "$tmp/ledger.toml" -i "$tmp/ledger.jsonl" -o "$tmp/ledger.out.jsonl" -j 1
expect_match "$tmp/err" "$(summary_re 8 8 0 0)"
[[ $(sqlite3 "$tmp/ledger.db" "SELECT count(*) FROM entries") == 8 ]] || fail "not every entry was booked"

cli_done
