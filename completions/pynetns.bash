# bash completion for pynetns                                  -*- shell-script -*-
#
# Uses bash-completion (_init_completion, _command_offset) when it is there, and a small
# built-in equivalent when it is not (minimal images, `bash --norc`). What to offer comes
# from `pynetns __complete INDEX WORD...`, which reads pynetns's own grammar; this file only
# turns its answer into COMPREPLY.

# Sourced by hand into a shell that has not loaded bash-completion: load it if installed.
if ! declare -F _init_completion >/dev/null &&
    [[ -r /usr/share/bash-completion/bash_completion ]]; then
    . /usr/share/bash-completion/bash_completion
fi

# Without bash-completion: words, cword, cur and prev as `_init_completion -n :` sets them,
# readline's ':' words joined again so that docker:NAME is one word.
_pynetns_words()
{
    local i w join=0
    words=()
    for ((i = 0; i <= COMP_CWORD; i++)); do
        w=${COMP_WORDS[i]}
        if ((join)) || [[ $w == : && ${#words[@]} -gt 0 ]]; then
            words[-1]+=$w
        else
            words+=("$w")
        fi
        [[ $w == *: ]] && join=1 || join=0
    done
    cword=$((${#words[@]} - 1))
    cur=${words[cword]}
    prev=${words[cword - 1]}
}

# Without bash-completion: complete words[$1...] as a command line of its own, as
# _command_offset does: a command name, else what the command's own completion says
# (a function, or the options of its complete spec), else file names.
_pynetns_command_offset()
{
    local i=$1 spec func
    if ((cword == i)); then
        mapfile -t COMPREPLY < <(compgen -c -- "$cur")
        return
    fi
    spec=$(complete -p -- "${words[i]}" 2>/dev/null)
    if [[ $spec == *" -F "* ]]; then
        func=${spec#* -F }
        COMP_WORDS=("${words[@]:i}")
        COMP_CWORD=$((cword - i))
        "${func%% *}" "${words[i]}" "$cur" "$prev"
    elif [[ $spec ]]; then
        spec=${spec#complete }
        eval "mapfile -t COMPREPLY < <(compgen ${spec% *} -- \"\$cur\")"
    else
        mapfile -t COMPREPLY < <(compgen -f -- "$cur")
    fi
}

_pynetns()
{
    local cur prev words cword full=0
    if declare -F _init_completion >/dev/null; then
        full=1
        # docker:NAME is one word here, though ':' splits words for readline.
        _init_completion -n : || return
    else
        _pynetns_words
    fi

    local -a answer
    mapfile -t answer < <("${words[0]}" __complete "$((cword - 1))" \
        "${words[@]:1:cword-1}" "$cur" 2>/dev/null)

    case ${answer[0]} in
        files)
            if ((full)); then _filedir; else mapfile -t COMPREPLY < <(compgen -f -- "$cur"); fi
            ;;
        command\ *)
            # exec's command: complete it as a command line of its own. _command_offset
            # counts in COMP_WORDS, so hand it the words with docker:NAME joined again.
            if ((full)); then
                COMP_WORDS=("${words[@]}")
                COMP_CWORD=$cword
                _command_offset "$((${answer[0]#command } + 1))"
            else
                _pynetns_command_offset "$((${answer[0]#command } + 1))"
            fi
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
            # readline replaces only what follows the last ':' of the word (':' breaks
            # words): offer that part, as __ltrim_colon_completions does.
            if [[ $cur == *:* && $COMP_WORDBREAKS == *:* ]]; then
                local i prefix=${cur%"${cur##*:}"}
                for i in "${!COMPREPLY[@]}"; do
                    COMPREPLY[i]=${COMPREPLY[i]#"$prefix"}
                done
            fi
            ;;
    esac
} &&
    complete -F _pynetns pynetns
