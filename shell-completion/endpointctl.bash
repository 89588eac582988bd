# SPDX-License-Identifier: LGPL-2.1-or-later
# bash completion for endpointctl(1). Verbs and options are read from
# "endpointctl --help" itself, so this file never falls behind the verb
# table; names of keys come from "endpointctl key list".

_endpointctl_verbs() { # the "group verb" or "verb" of each line of --help
        "${COMP_WORDS[0]}" --help 2>/dev/null | awk '/^Verbs:/ { on = 1; next } on && /^$/ { exit }
                on && /^  [a-z]/ { print $1 ($2 ~ /^[a-z]/ ? " " $2 : "") }'
}

_endpointctl() {
        local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD - 1]}
        local -a args=()
        local i verbs

        for ((i = 1; i < COMP_CWORD; i++)); do
                case ${COMP_WORDS[i]} in
                --) ;;
                -*) ;;
                *) args+=("${COMP_WORDS[i]}") ;;
                esac
        done
        case $prev in
        --output | --trust | --ignore | --device-key)
                mapfile -t COMPREPLY < <(compgen -f -- "$cur")
                return
                ;;
        --policy)
                mapfile -t COMPREPLY < <(compgen -W "pcr signed" -- "$cur")
                return
                ;;
        --dir)
                mapfile -t COMPREPLY < <(compgen -d -- "$cur")
                return
                ;;
        esac
        if [[ $cur == -* ]]; then
                mapfile -t COMPREPLY < <(compgen -W "$("${COMP_WORDS[0]}" --help 2>/dev/null |
                        grep -o -- '--[a-z][a-z-]*' | sort -u) --json= -j -q -l -h" -- "$cur")
                return
        fi
        verbs=$(_endpointctl_verbs)
        if ((${#args[@]} == 0)); then
                mapfile -t COMPREPLY < <(compgen -W "$(awk '{ print $1 }' <<<"$verbs" | sort -u)" -- "$cur")
        elif ((${#args[@]} == 1)) && grep -q "^${args[0]} " <<<"$verbs"; then
                mapfile -t COMPREPLY < <(compgen -W "$(awk -v g="${args[0]}" '$1 == g { print $2 }' <<<"$verbs")" \
                        -- "$cur")
        else
                case "${args[*]:0:2}" in
                "key delete"* | unseal* | encrypt* | decrypt*)
                        mapfile -t COMPREPLY < <(compgen -W "$("${COMP_WORDS[0]}" --no-legend key list 2>/dev/null |
                                awk '{ print $1 }')" -- "$cur")
                        ;;
                *) mapfile -t COMPREPLY < <(compgen -f -- "$cur") ;;
                esac
        fi
}
complete -F _endpointctl endpointctl
