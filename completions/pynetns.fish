# fish completion for pynetns. What to offer comes from `pynetns __complete INDEX WORD...`,
# which reads pynetns's own grammar; this file only hands its answer to fish.

function __pynetns_complete
    set -l tokens (commandline -opc)
    set -l current (commandline -ct)
    set -l answer ($tokens[1] __complete (math (count $tokens) - 1) $tokens[2..-1] $current 2>/dev/null)
    switch "$answer[1]"
        case files
            __fish_complete_path $current
        case 'command *'
            # exec's command: complete it as a command line of its own.
            set -l start (math (string replace 'command ' '' -- $answer[1]) + 2)
            __fish_complete_subcommand --commandline $tokens[$start..-1] $current
        case words
            printf '%s\n' $answer[2..-1]
    end
end

complete -c pynetns -f -a '(__pynetns_complete)'
