#!/bin/bash
# bash-completion completing `ip netns exec <TAB>` and friends: its ip completion runs
# `ip netns list` through PATH and offers the words of what it prints (so an `(id: N)` is
# offered too, as with the real ip); newer versions run `ip -c=never netns list` and keep the
# first field, done here by a completion function of our own in that style. The candidates
# are printed sorted. Needs a private /run/netns (it lists everything) and a network
# namespace of its own (for the ids).
set -u

cleanup() { ip -all netns delete; }
trap cleanup EXIT

blue=${NS_PREFIX-}blue$RANDOM
red=${NS_PREFIX-}red$RANDOM
ip netns add "$blue" && ip netns add "$red" && ip netns set "$red" 5 || exit 1

complete_line() {  # complete_line WORD...: COMPREPLY for the last word, as bash would ask
    COMP_WORDS=("$@")
    COMP_CWORD=$(($# - 1))
    COMP_LINE="$*"
    COMP_POINT=${#COMP_LINE}
    COMPREPLY=()
    "$completer" "$1" "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}"
    echo "$* <TAB>: $(printf '%s\n' "${COMPREPLY[@]}" | sort | tr '\n' ' ')"
}

# Newer bash-completion's way of listing the names.
_ip_netns_names() {
    local cur=$2
    COMPREPLY=($(compgen -W "$("$1" -c=never netns list 2>/dev/null | cut -d' ' -f1)" \
        -- "$cur"))
}

completer=_ip_netns_names
for verb in exec delete pids; do complete_line ip netns "$verb" ""; done
complete_line ip netns exec "${NS_PREFIX-}r"

loaded=0
if [ -r /usr/share/bash-completion/bash_completion ] &&
    [ -r /usr/share/bash-completion/completions/ip ]; then
    . /usr/share/bash-completion/bash_completion
    . /usr/share/bash-completion/completions/ip
    loaded=1
fi
if [ $loaded = 1 ] && declare -F _ip >/dev/null; then
    completer=_ip
    for verb in exec delete pids set; do complete_line ip netns "$verb" ""; done
    complete_line ip netns delete "${NS_PREFIX-}b"
    complete_line ip -4 netns exec ""
    complete_line ip netns ""
else
    echo "no bash-completion: its ip completion is not run" >&2
    exit 1
fi
