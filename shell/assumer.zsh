# assumer: shell integration for zsh (5.0 or later).
#
# Set-up, in ~/.zshrc (before or after compinit), either form:
#   . ~/.local/share/assumer/assumer.zsh       written by `assumer shell-init zsh --install`;
#                                              no Python start (the fast form)
#   eval "$(assumer shell-init zsh)"           prints this file (one Python start)
# Either takes --name NAME (`. FILE --name NAME`, `shell-init zsh --name NAME`): the
# function's name, default `assume`. Without --name, an `assume` alias or function that
# is already defined (granted's, say) is left alone and said so; --name takes the name.
#
#   assume PROFILE [OPTIONS]              set PROFILE's credentials in this shell
#   assume                                pick a profile on the terminal, then as above
#   assume PROFILE [OPTIONS] -- CMD ...   run one command with them (assumer exec)
#   assume --unset                        remove every variable assumer set
#   assume --status                       show the profile in use and the minutes left
#   assume -l | -c [PROFILE]              list the profiles | open the AWS console
#   assumer_prompt [FORMAT]               "PROFILE (42m)" for a prompt; no process is started
#   ASSUMER_AUTO_REFRESH=1                renew the session at the prompt once less than
#                                         min(ASSUMER_MIN_TTL (default 900), half its lifetime) seconds are left
#
# OPTIONS are assumer's session options: --duration, --mfa-code, --refresh, --no-cache,
# --region, --source-profile. The quoting of the values lives in `assumer env` alone;
# this file only evaluates what it prints, and only when it succeeded.
#
# Every function starts with `emulate -L zsh`, so the user's options (ksh_arrays,
# nounset, err_exit, ...) do not change what it does, and turns xtrace and verbose off
# locally, so a traced shell never prints a secret. Helpers are named __assumer_*.

zmodload -F zsh/datetime p:EPOCHSECONDS 2>/dev/null

__assumer_main() {
    emulate -L zsh
    setopt no_xtrace no_verbose
    case ${1-} in
        '')
            if (( $# == 0 )); then
                # The picker (assumer env without PROFILE) draws on /dev/tty; Esc is exit 130.
                __assumer_eval || return
                __assumer_remember "${ASSUMER_PROFILE-}"
                __assumer_say
                return 0
            fi
            ;;
        -h | --help)
            __assumer_usage
            return 0
            ;;
        --status)
            __assumer_show
            return
            ;;
        -l | --list)
            shift
            command assumer list "$@"
            return
            ;;
        -c | --console)
            shift
            command assumer login "$@"
            return
            ;;
        --unset)
            if (( $# != 1 )); then
                print -ru2 -- "$__ASSUMER_NAME: --unset takes no other argument"
                return 2
            fi
            __assumer_eval --unset || return
            unset __ASSUMER_ARGS __ASSUMER_ARGS_FOR
            return 0
            ;;
    esac
    local -i dashdash=${argv[(ie)--]}
    # Help anywhere before -- is printed, never evaluated (assumer env would print
    # click's help on stdout, and eval would run "Usage:" as a command).
    local arg
    for arg in "${(@)argv[1,dashdash-1]}"; do
        case $arg in -h | --help) __assumer_usage; return 0 ;; esac
    done
    if (( dashdash <= $# )); then
        __assumer_exec "$@"
        return
    fi
    __assumer_eval "$@" || return
    __assumer_remember "$@"
    __assumer_say
}

# One line on stderr after a successful assume, in an interactive shell only (scripts
# stay quiet): the profile, its region, the minutes left. No process is started.
__assumer_say() {
    emulate -L zsh
    [[ -o interactive && -n ${ASSUMER_PROFILE-} ]] || return 0
    local REPLY line="$__ASSUMER_NAME: profile $ASSUMER_PROFILE"
    [[ -z ${ASSUMER_ACCOUNT-} ]] || line+=", account $ASSUMER_ACCOUNT"
    [[ -z ${AWS_REGION-} ]] || line+=", region $AWS_REGION"
    if __assumer_seconds_left; then
        line+=", $(( REPLY / 60 )) min left"
    fi
    [[ -z ${ASSUMER_PARENT_PROFILE-} ]] || line+=" (nested inside $ASSUMER_PARENT_PROFILE's subshell)"
    print -ru2 -- "$line"
}

# Capture first, check the status, only then evaluate: a failing assumer leaves the
# shell's variables as they were and its exit status is returned. The rendered lines
# use export, which in zsh always sets the global variable.
__assumer_eval() {
    emulate -L zsh
    setopt no_xtrace no_verbose
    local __assumer_code
    __assumer_code=$(command assumer env "$@" --shell zsh) || return
    eval "$__assumer_code"
}

# The options of the last assume, for the refresh at the prompt: a one-time MFA code
# and --refresh are left out, --region, --duration and the rest are kept.
__assumer_remember() {
    emulate -L zsh
    setopt no_xtrace no_verbose
    local -a keep
    while (( $# )); do
        case $1 in
            --refresh | --mfa-code=*) ;;
            --mfa-code) (( $# < 2 )) || shift ;;
            *) keep+=("$1") ;;
        esac
        shift
    done
    typeset -ga __ASSUMER_ARGS
    __ASSUMER_ARGS=("${keep[@]}")
    typeset -g __ASSUMER_ARGS_FOR=${ASSUMER_PROFILE-}
}

# assumer exec stops reading its own options at PROFILE, so they go before it.
__assumer_exec() {
    emulate -L zsh
    setopt no_xtrace no_verbose
    local -a opts names
    while [[ $1 != -- ]]; do
        case $1 in
            --duration | --mfa-code | --region | --source-profile)
                opts+=("$1")
                if [[ ${2-} != -- ]]; then opts+=("$2"); shift; fi
                ;;
            -*) opts+=("$1") ;;
            *) names+=("$1") ;;
        esac
        shift
    done
    shift
    if (( ${#names} != 1 )); then
        print -ru2 -- "$__ASSUMER_NAME: name one PROFILE before -- ($__ASSUMER_NAME PROFILE [OPTIONS] -- CMD ...)"
        return 2
    fi
    command assumer exec "${opts[@]}" "${names[1]}" -- "$@"
}

__assumer_usage() {
    local n=$__ASSUMER_NAME
    print -rl -- \
        "usage: $n PROFILE [OPTIONS]             set PROFILE's credentials in this shell" \
        "       $n                               pick a profile on the terminal, then the same" \
        "       $n PROFILE [OPTIONS] -- CMD ...  run one command with them" \
        "       $n --unset                       remove every variable assumer set" \
        "       $n --status                      show the profile in use and the minutes left" \
        "       $n -l | --list                   list the profiles (assumer list)" \
        "       $n -c | --console [PROFILE]      open the AWS console (assumer login)" \
        "OPTIONS: --duration SECONDS --mfa-code CODE --refresh --no-cache --region REGION" \
        "         --source-profile PROFILE (see: assumer env --help)"
}

# The current time in epoch seconds (zsh/datetime; `date` only where that module is missing).
__assumer_time() {
    if (( ${+EPOCHSECONDS} )); then
        REPLY=$EPOCHSECONDS
    else
        REPLY=$(command date +%s)
    fi
}

# Seconds left in the shell's session, in REPLY; fails when ASSUMER_EXPIRATION is
# missing or not a plain number (it is never evaluated as code).
__assumer_seconds_left() {
    emulate -L zsh
    [[ ${ASSUMER_EXPIRATION-} == <-> ]] || return 1
    __assumer_time
    REPLY=$(( 10#$ASSUMER_EXPIRATION - REPLY ))
}

__assumer_show() {
    emulate -L zsh
    if [[ -z ${ASSUMER_PROFILE-} ]]; then
        print -ru2 -- "$__ASSUMER_NAME: no profile assumed in this shell ($__ASSUMER_NAME PROFILE sets one)"
        return 1
    fi
    local REPLY line=$ASSUMER_PROFILE
    if __assumer_seconds_left; then
        if (( REPLY > 0 )); then
            line+=": $(( REPLY / 60 )) min left"
        else
            line+=": expired $(( (59 - REPLY) / 60 )) min ago"
        fi
        [[ -z ${AWS_CREDENTIAL_EXPIRATION-} ]] || line+=" (until $AWS_CREDENTIAL_EXPIRATION)"
    fi
    if [[ ${AWS_ACCESS_KEY_ID-} != ${ASSUMER_KEY_ID-} ]]; then
        line+="; AWS_ACCESS_KEY_ID has changed since (not assumer's session)"
    fi
    print -r -- "$line"
}

# The prompt segment: "PROFILE (42m)", "PROFILE (expired)", nothing without a profile;
# "PARENT > PROFILE (42m)" in a subshell of `assumer exec` nested in PARENT's session.
# FORMAT (printf, default "%s") wraps it. In a prompt, with prompt_subst:
#   setopt prompt_subst; RPROMPT='$(assumer_prompt "[%s]")'
# (a % in a profile name is then read as a prompt escape; assumer_prompt -p doubles it).
assumer_prompt() {
    emulate -L zsh
    local escape=0
    if [[ ${1-} == -p ]]; then escape=1; shift; fi
    [[ -n ${ASSUMER_PROFILE-} ]] || return 0
    local REPLY segment=$ASSUMER_PROFILE
    if __assumer_seconds_left; then
        if (( REPLY > 0 )); then
            segment+=" ($(( REPLY / 60 ))m)"
        else
            segment+=" (expired)"
        fi
    fi
    # Inside `assumer exec`'s subshell of another session: "outer > inner (42m)".
    [[ -z ${ASSUMER_PARENT_PROFILE-} ]] || segment="$ASSUMER_PARENT_PROFILE > $segment"
    (( ! escape )) || segment=${segment//\%/%%}
    printf -- "${1:-%s}" "$segment"
}

# Opt-in renewal before each prompt (ASSUMER_AUTO_REFRESH=1): when less than
# min(ASSUMER_MIN_TTL, half the session's lifetime) seconds are left, the last `assume` of this shell runs again, quietly
# (or `assume "$ASSUMER_PROFILE"` when the session came from elsewhere); the keyring
# cache serves it when another shell already renewed. At most one attempt
# a minute, so a failure (offline, MFA not answered) does not slow every prompt.
__assumer_precmd() {
    emulate -L zsh
    [[ ${ASSUMER_AUTO_REFRESH-} == 1 && -n ${ASSUMER_PROFILE-} ]] || return 0
    local REPLY ttl=${ASSUMER_MIN_TTL-900} rc=0 half
    [[ $ttl == <-> ]] || ttl=900
    __assumer_seconds_left || return 0
    # The renewal rule: renew below min(ASSUMER_MIN_TTL, lifetime / 2), lifetime = expiry - obtained.
    if [[ ${ASSUMER_OBTAINED-} == <-> ]]; then
        half=$(( (10#$ASSUMER_EXPIRATION - 10#$ASSUMER_OBTAINED) / 2 ))
        (( half < 0 || half >= 10#$ttl )) || ttl=$half
    fi
    (( REPLY < 10#$ttl )) || return 0
    __assumer_time
    if [[ ${__ASSUMER_REFRESHED_AT-} == <-> ]] && (( REPLY - __ASSUMER_REFRESHED_AT < 60 )); then
        return 0
    fi
    typeset -g __ASSUMER_REFRESHED_AT=$REPLY
    if [[ ${__ASSUMER_ARGS_FOR-} == "$ASSUMER_PROFILE" ]] && (( ${#__ASSUMER_ARGS} )); then
        __assumer_main "${__ASSUMER_ARGS[@]}" >/dev/null 2>&1 || rc=$?
    else
        __assumer_main "$ASSUMER_PROFILE" >/dev/null 2>&1 || rc=$?
    fi
    if (( rc )); then
        print -ru2 -- "assumer: could not renew the session of profile '$ASSUMER_PROFILE' (exit $rc); run: $__ASSUMER_NAME '$ASSUMER_PROFILE'"
    fi
    return 0
}

# -- completion: click's protocol (_ASSUMER_COMPLETE=zsh_complete) ---------------------

# The completions of the words given (the current word is the last), from assumer, as
# triples (type, value, description) in the array `reply`.
__assumer_candidates() {
    emulate -L zsh
    reply=("${(@f)$(env COMP_WORDS="${(j: :)@}" COMP_CWORD=$(( $# - 1 )) \
        _ASSUMER_COMPLETE=zsh_complete assumer 2>/dev/null)}")
    [[ -n ${reply[1]-} ]] || reply=()
}

# Offer the candidates of __assumer_candidates through the completion system.
__assumer_compadd() {
    local -a reply plain described
    local type key descr
    __assumer_candidates "$@"
    for type key descr in "${reply[@]}"; do
        case $type in
            plain)
                if [[ $descr == _ ]]; then plain+=("$key"); else described+=("${key//:/\\:}:$descr"); fi
                ;;
            dir) _path_files -/ ;;
            file) _path_files -f ;;
        esac
    done
    (( ! ${#described} )) || _describe -V unsorted described -U
    (( ! ${#plain} )) || compadd -U -V unsorted -a plain
}

# assumer exec PROFILE -- completes a command after "--"; everything else is click's.
_assumer() {
    local -i dashdash=${words[(ie)--]}
    if [[ ${words[2]-} == exec ]] && (( dashdash < CURRENT )); then
        shift $dashdash words
        (( CURRENT -= dashdash ))
        _normal
        return
    fi
    __assumer_compadd "${(@)words[1,CURRENT]}"
}

# assume completes as `assumer env` does (profiles, options); after "--", a command.
_assume() {
    local -i dashdash=${words[(ie)--]}
    if (( dashdash < CURRENT )); then
        shift $dashdash words
        (( CURRENT -= dashdash ))
        _normal
        return
    fi
    __assumer_compadd assumer env "${(@)words[2,CURRENT]}"
}

# compdef exists once compinit has run. Where it does not yet (this file sourced
# before compinit, or in a shell without completion), registration waits for the
# first prompt that has it.
__assumer_compdef() {
    (( ${+functions[compdef]} )) || return 0
    compdef _assumer assumer
    [[ $functions[$__ASSUMER_NAME] != *'__assumer_main "$@"'* ]] || compdef _assume "$__ASSUMER_NAME"
    precmd_functions=(${precmd_functions:#__assumer_compdef})
}

# Define the function under its name (default `assume`). Without --name, a name already
# taken by an alias or by a function of someone else's is left as it is (said once, in
# an interactive shell); --name NAME takes NAME whatever held it. Only a leading --name
# is read: `. FILE` without arguments sees the caller's own positional parameters.
__assumer_load() {
    emulate -L zsh
    setopt extended_glob
    local name=assume forced=0 what=
    case ${1-} in
        --name) name=${2-}; forced=1 ;;
        --name=*) name=${1#--name=}; forced=1 ;;
    esac
    if [[ $name != [A-Za-z_][A-Za-z0-9_-]# ]]; then
        print -ru2 -- "assumer: --name wants a command name (letters, digits, _ and -), not '$name'"
        return 2
    fi
    typeset -g __ASSUMER_NAME=$name
    if (( ! forced )); then
        if (( ${+aliases[$name]} )); then
            what="an alias"
        elif (( ${+functions[$name]} )) && [[ $functions[$name] != *'__assumer_main "$@"'* ]]; then
            what="a function"
        fi
        if [[ -n $what ]]; then
            [[ ! -o interactive ]] || print -ru2 -- "assumer: '$name' is already $what in this shell: left as it is; load assumer's with --name NAME (README: Shell integration)"
            return 0
        fi
    fi
    unalias $name 2>/dev/null
    # The name is checked above to be a plain word: nothing in it is code.
    functions[$name]='__assumer_main "$@"'
}

__assumer_load "$@"
if (( ${+functions[compdef]} )); then
    __assumer_compdef
elif (( ! ${precmd_functions[(Ie)__assumer_compdef]:-0} )); then
    precmd_functions+=(__assumer_compdef)
fi
(( ${precmd_functions[(Ie)__assumer_precmd]:-0} )) || precmd_functions+=(__assumer_precmd)
