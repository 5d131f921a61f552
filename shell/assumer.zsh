# assumer: shell integration for zsh (5.0 or later).
#
# Set-up, in ~/.zshrc (before or after compinit):   eval "$(assumer shell-init zsh)"
#
#   assume PROFILE [OPTIONS]              set PROFILE's credentials in this shell
#   assume PROFILE [OPTIONS] -- CMD ...   run one command with them (assumer exec)
#   assume --unset                        remove every variable assumer set
#   assume                                show the profile in use and the minutes left
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

assume() {
    emulate -L zsh
    setopt no_xtrace no_verbose
    case ${1-} in
        '')
            if (( $# == 0 )); then __assumer_show; return; fi
            ;;
        -h | --help)
            __assumer_usage
            return 0
            ;;
        --unset)
            if (( $# != 1 )); then
                print -ru2 -- "assume: --unset takes no other argument"
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
        print -ru2 -- "assume: name one PROFILE before -- (assume PROFILE [OPTIONS] -- CMD ...)"
        return 2
    fi
    command assumer exec "${opts[@]}" "${names[1]}" -- "$@"
}

__assumer_usage() {
    print -r -- "usage: assume PROFILE [OPTIONS]             set PROFILE's credentials in this shell
       assume PROFILE [OPTIONS] -- CMD ...  run one command with them
       assume --unset                       remove every variable assumer set
       assume                               show the profile in use and the minutes left
OPTIONS: --duration SECONDS --mfa-code CODE --refresh --no-cache --region REGION
         --source-profile PROFILE (see: assumer env --help)"
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
        print -ru2 -- "assume: no profile assumed in this shell (assume PROFILE sets one)"
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

# The prompt segment: "PROFILE (42m)", "PROFILE (expired)", nothing without a profile.
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
        assume "${__ASSUMER_ARGS[@]}" >/dev/null 2>&1 || rc=$?
    else
        assume "$ASSUMER_PROFILE" >/dev/null 2>&1 || rc=$?
    fi
    if (( rc )); then
        print -ru2 -- "assumer: could not renew the session of profile '$ASSUMER_PROFILE' (exit $rc); run: assume '$ASSUMER_PROFILE'"
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

_assumer() {
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
    compdef _assume assume
    precmd_functions=(${precmd_functions:#__assumer_compdef})
}

if (( ${+functions[compdef]} )); then
    __assumer_compdef
elif (( ! ${precmd_functions[(Ie)__assumer_compdef]:-0} )); then
    precmd_functions+=(__assumer_compdef)
fi
(( ${precmd_functions[(Ie)__assumer_precmd]:-0} )) || precmd_functions+=(__assumer_precmd)
