# bash completion for statenet. Subcommands and options are read from `statenet ... --help`
# when completing, so they always match the installed binary.
_statenet() {
    local cur=${COMP_WORDS[COMP_CWORD]}
    local -a path=()
    local i word
    # The command path typed so far (`machine send`), options and their values left out.
    for ((i = 1; i < COMP_CWORD; i++)); do
        word=${COMP_WORDS[i]}
        [[ $word == -* ]] && continue
        if statenet "${path[@]}" "$word" --help >/dev/null 2>&1 &&
            statenet "${path[@]}" --help 2>/dev/null | awk '/^Subcommands:/ { s = 1; next } s && /^  [a-z]/ { print $1 }' |
            grep -qx -- "$word"; then
            path+=("$word")
        fi
    done
    local help
    help=$(statenet "${path[@]}" --help 2>/dev/null) || return 0
    if [[ $cur == -* ]]; then
        COMPREPLY=($(compgen -W "$(grep -oE -- '--[a-z][a-z0-9-]*' <<<"$help" | sort -u)" -- "$cur"))
        return 0
    fi
    local subcommands
    subcommands=$(awk '/^Subcommands:/ { s = 1; next } s && /^  [a-z]/ { print $1 }' <<<"$help")
    if [[ -n $subcommands ]]; then
        COMPREPLY=($(compgen -W "$subcommands" -- "$cur"))
        return 0
    fi
    COMPREPLY=($(compgen -f -- "$cur"))
}
complete -o filenames -F _statenet statenet
