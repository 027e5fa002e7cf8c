#!/usr/bin/env bash
# The CLI's conventions: the generated man page, shell completion, help that points to
# installed guides.
# Usage: tests/cli_conventions_test.sh STATENET_BINARY SOURCE_ROOT MAN_PAGE
set -euo pipefail

statenet=$1
root=$2
man_page=$3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
source "$(dirname "$0")/cli_lib.sh"

echo "== the man page is generated from the binary's help, every subcommand included"
[[ -s $man_page ]] || fail "no man page at $man_page"
cp "$man_page" "$tmp/out"
expect_match "$tmp/out" '^\.TH STATENET "1"'
for command in "run" "validate" "machine send" "machine outbox" "history replay"; do
    expect_contains "$tmp/out" ".SS \"statenet $command\""
done
nroff -man "$man_page" >"$tmp/out" 2>"$tmp/err" || fail "nroff cannot render the man page"
expect_contains "$tmp/out" "Usage: statenet machine send"

echo "== bash completion reads subcommands and options from the binary"
complete_words() {  # complete_words WORD...: what bash offers for the last word
    PATH="$(dirname "$statenet"):$PATH" bash -c '
        source "$1"; shift
        COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1))
        _statenet
        printf "%s\n" "${COMPREPLY[@]}"' _ "$root/completions/statenet.bash" "$@" >"$tmp/out" 2>"$tmp/err"
}
complete_words statenet ma
expect_line "$tmp/out" "machine"
complete_words statenet machine o
expect_line "$tmp/out" "outbox"
complete_words statenet machine send --ke
expect_line "$tmp/out" "--key"
complete_words statenet validate --fo
expect_line "$tmp/out" "--format"
# Every subcommand the binary lists is offered.
complete_words statenet ""
for command in $("$statenet" --help | awk '/^Subcommands:/ { s = 1; next } s && /^  [a-z]/ { print $1 }'); do
    expect_line "$tmp/out" "$command"
done
[[ -s $root/completions/_statenet ]] || fail "no zsh completion"

echo "== help points to installed guides, not to the source tree"
expect_exit 0 "$statenet" --help
expect_match "$tmp/out" '^Guides: .*/share/doc/statenet; the manual: man statenet\.$'
expect_exit 0 "$statenet" machine --help
expect_match "$tmp/out" 'machines\.md in .*/share/doc/statenet\.$'
for help in "" "run" "validate" "graph" "history" "machine" "machine serve"; do
    # shellcheck disable=SC2086
    "$statenet" $help --help >"$tmp/out"
    if grep -q 'docs/' "$tmp/out"; then fail "statenet $help --help names a source-tree path"; fi
done

cli_done
