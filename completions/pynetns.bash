# bash completion for pynetns                                  -*- shell-script -*-
#
# Needs bash-completion (_init_completion, _command_offset). What to offer comes from
# `pynetns __complete INDEX WORD...`, which reads pynetns's own grammar; this file only
# turns its answer into COMPREPLY.

# Sourced by hand into a shell that has not loaded bash-completion: load it.
if ! declare -F _init_completion >/dev/null &&
    [[ -r /usr/share/bash-completion/bash_completion ]]; then
    . /usr/share/bash-completion/bash_completion
fi

_pynetns()
{
    local cur prev words cword
    # docker:NAME is one word here, though ':' splits words for readline.
    _init_completion -n : || return

    local -a answer
    mapfile -t answer < <("${words[0]}" __complete "$((cword - 1))" \
        "${words[@]:1:cword-1}" "$cur" 2>/dev/null)

    case ${answer[0]} in
        files)
            _filedir
            ;;
        command\ *)
            # exec's command: complete it as a command line of its own. _command_offset
            # counts in COMP_WORDS, so hand it the words with docker:NAME joined again.
            COMP_WORDS=("${words[@]}")
            COMP_CWORD=$cword
            _command_offset "$((${answer[0]#command } + 1))"
            ;;
        words)
            local line value
            for line in "${answer[@]:1}"; do
                value=${line%%$'\t'*}
                [[ $value == *[^A-Za-z0-9_.:@%+=,/-]* ]] && printf -v value %q "$value"
                [[ $value == "$cur"* ]] && COMPREPLY+=("$value")
            done
            # An engine prefix (docker:) is half a word: the name follows without a space.
            ((${#COMPREPLY[@]} == 1)) && [[ $COMPREPLY == *: ]] && compopt -o nospace
            __ltrim_colon_completions "$cur"
            ;;
    esac
} &&
    complete -F _pynetns pynetns
