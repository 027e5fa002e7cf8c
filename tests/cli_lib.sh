# Helpers for the CLI shell tests: run a command, check its exit status and outputs.
# Source it after setting `tmp` (a scratch directory); it counts `checks` and `failures`.
# End a test with `cli_done`.

failures=0
checks=0

# start_fake_api BIN: starts the fake API server (tests/servers), which prints its ephemeral
# port on 127.0.0.1 first; sets fake_api_pid (the caller's cleanup stops it) and
# fake_api_url. Exits the test when the server does not start.
start_fake_api() {
    "$1" >"$tmp/fake_api_port" &
    fake_api_pid=$!
    for _ in $(seq 100); do [[ -s $tmp/fake_api_port ]] && break; sleep 0.05; done
    local port
    port=$(head -1 "$tmp/fake_api_port")
    [[ $port =~ ^[0-9]+$ ]] || { echo "fake_api_server did not start" >&2; exit 1; }
    fake_api_url="http://127.0.0.1:$port"
}

# run CMD...: runs CMD with stdout in $tmp/out, stderr in $tmp/err, exit status in $status.
# With input=FILE set for the call, CMD reads that file on stdin.
run() {
    set +e
    "$@" <"${input:-/dev/null}" >"$tmp/out" 2>"$tmp/err"
    status=$?
    set -e
}

fail() {
    failures=$((failures + 1))
    {
        echo "FAIL: $*"
        echo "  command: ${last_command:-}"
        echo "  --- stdout:"; sed 's/^/  | /' "$tmp/out"
        echo "  --- stderr:"; sed 's/^/  | /' "$tmp/err"
    } >&2
}

# expect_exit CODE CMD...: runs CMD and checks its exit status.
expect_exit() {
    local want=$1
    shift
    last_command="$*"
    run "$@"
    checks=$((checks + 1))
    [[ $status -eq $want ]] || fail "exit status $status, expected $want"
}

# expect_contains FILE TEXT: some line of FILE contains TEXT.
expect_contains() {
    checks=$((checks + 1))
    grep -qF -- "$2" "$1" || fail "$(basename "$1") does not contain: $2"
}

# expect_line FILE LINE: FILE has exactly this line.
expect_line() {
    checks=$((checks + 1))
    grep -qxF -- "$2" "$1" || fail "$(basename "$1") has no line: $2"
}

# expect_match FILE REGEX: some line of FILE matches the extended REGEX.
expect_match() {
    checks=$((checks + 1))
    grep -qE -- "$2" "$1" || fail "$(basename "$1") has no line matching: $2"
}

# expect_absent FILE TEXT: no line of FILE contains TEXT.
expect_absent() {
    checks=$((checks + 1))
    ! grep -qF -- "$2" "$1" || fail "$(basename "$1") should not contain: $2"
}

# expect_file FILE EXPECTED: FILE's content is exactly EXPECTED (plus a final newline).
expect_file() {
    checks=$((checks + 1))
    [[ "$(cat "$1")" == "$2" ]] || fail "$(basename "$1") is not as expected; wanted:"$'\n'"$2"$'\n'"got:"$'\n'"$(cat "$1")"
}

# cli_done: prints the tally; fails the test when a check failed.
cli_done() {
    echo "$checks checks, $failures failed"
    [[ $failures -eq 0 ]]
}

# summary_re TOTAL EMITTED EXCLUDED FAILED: the regex of `statenet run`'s summary line.
summary_re() { echo "^statenet: $1 records: $2 emitted, $3 excluded, $4 failed in [0-9]+\.[0-9]{2}s \([0-9]+ records/s\)$"; }
