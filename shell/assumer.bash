# assumer: shell integration for bash (4.2 or later).
#
# Set-up, in ~/.bashrc (or a CI script), either form:
#   . ~/.local/share/assumer/assumer.bash      written by `assumer shell-init bash --install`;
#                                              no Python start (the fast form)
#   eval "$(assumer shell-init bash)"          prints this file (one Python start)
# Either takes --name NAME (`. FILE --name NAME`, `shell-init bash --name NAME`): the
# function's name, default `assume`. Without --name, an `assume` alias or function that
# is already defined (granted's, say) is left alone and said so; --name takes the name.
#
#   assume PROFILE [OPTIONS]              set PROFILE's credentials in this shell
#   assume                                pick a profile on the terminal, then as above
#   assume PROFILE [OPTIONS] -- CMD ...   run one command with them (assumer exec)
#   assume --unset                        remove every variable assumer set
#   assume --status                       show the profile in use and the minutes left
#   assume -l | -c [PROFILE]              list the profiles | open the AWS console
#   assumer_prompt [FORMAT]               "PROFILE (42m)" for PS1; no process is started
#   ASSUMER_AUTO_REFRESH=1                renew the session at the prompt once less than
#                                         min(ASSUMER_MIN_TTL (default 900), half its lifetime) seconds are left
#
# OPTIONS are assumer's session options: --duration, --mfa-code, --refresh, --no-cache,
# --region, --source-profile. The quoting of the values lives in `assumer env` alone;
# this file only evaluates what it prints, and only when it succeeded.
#
# Every helper is named __assumer_*; the variables they keep between prompts are
# __ASSUMER_* shell variables (never exported).

__assumer_main() {
    # Tracing and verbose mode would print the secrets being evaluated: off (silently)
    # for the whole call, restored on the way out.
    local __assumer_flags=$-
    { set +xv; } 2>/dev/null
    local __assumer_status=0
    __assumer_assume "$@" || __assumer_status=$?
    case $__assumer_flags in *v*) set -v ;; esac
    case $__assumer_flags in *x*) set -x ;; esac
    return "$__assumer_status"
}

__assumer_assume() {
    case ${1-} in
        '')
            if [ "$#" -eq 0 ]; then
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
            if [ "$#" -ne 1 ]; then
                printf '%s\n' "$__ASSUMER_NAME: --unset takes no other argument" >&2
                return 2
            fi
            __assumer_eval --unset || return
            unset __ASSUMER_ARGS __ASSUMER_ARGS_FOR
            return 0
            ;;
    esac
    local -a __assumer_before=()
    while [ "$#" -gt 0 ]; do
        if [ "$1" = -- ]; then
            shift
            __assumer_exec ${__assumer_before[@]+"${__assumer_before[@]}"} -- "$@"
            return
        fi
        # Help anywhere before -- is printed, never evaluated (assumer env would print
        # click's help on stdout, and eval would run "Usage:" as a command).
        case $1 in -h | --help) __assumer_usage; return 0 ;; esac
        __assumer_before+=("$1")
        shift
    done
    __assumer_eval "${__assumer_before[@]}" || return
    __assumer_remember "${__assumer_before[@]}"
    __assumer_say
}

# One line on stderr after a successful assume, in an interactive shell only (scripts
# stay quiet): the profile, its account (from the role ARN), its region, the minutes left.
# No process is started.
__assumer_say() {
    case $- in *i*) ;; *) return 0 ;; esac
    [ -n "${ASSUMER_PROFILE-}" ] || return 0
    local __assumer_left __assumer_line="$__ASSUMER_NAME: profile $ASSUMER_PROFILE"
    [ -z "${ASSUMER_ACCOUNT-}" ] || __assumer_line+=", account $ASSUMER_ACCOUNT"
    [ -z "${AWS_REGION-}" ] || __assumer_line+=", region $AWS_REGION"
    if __assumer_seconds_left; then
        __assumer_line+=", $((__assumer_left / 60)) min left"
    fi
    [ -z "${ASSUMER_PARENT_PROFILE-}" ] || __assumer_line+=" (nested inside $ASSUMER_PARENT_PROFILE's subshell)"
    printf '%s\n' "$__assumer_line" >&2
}

# Capture first, check the status, only then evaluate: a failing assumer leaves the
# shell's variables as they were and its exit status is returned.
__assumer_eval() {
    local __assumer_code
    __assumer_code=$(command assumer env "$@" --shell bash) || return
    eval "$__assumer_code"
}

# The options of the last assume, for the refresh at the prompt: a one-time MFA code
# and --refresh are left out, --region, --duration and the rest are kept.
__assumer_remember() {
    local -a __assumer_keep=()
    while [ "$#" -gt 0 ]; do
        case $1 in
            --refresh | --mfa-code=*) ;;
            --mfa-code) [ "$#" -lt 2 ] || shift ;;
            *) __assumer_keep+=("$1") ;;
        esac
        shift
    done
    __ASSUMER_ARGS=(${__assumer_keep[@]+"${__assumer_keep[@]}"})
    __ASSUMER_ARGS_FOR=${ASSUMER_PROFILE-}
}

# assumer exec stops reading its own options at PROFILE, so they go before it.
__assumer_exec() {
    local -a __assumer_opts=() __assumer_names=()
    while [ "$1" != -- ]; do
        case $1 in
            --duration | --mfa-code | --region | --source-profile)
                __assumer_opts+=("$1")
                if [ "${2-}" != -- ]; then __assumer_opts+=("$2"); shift; fi
                ;;
            -*) __assumer_opts+=("$1") ;;
            *) __assumer_names+=("$1") ;;
        esac
        shift
    done
    shift
    if [ "${#__assumer_names[@]}" -ne 1 ]; then
        printf '%s\n' "$__ASSUMER_NAME: name one PROFILE before -- ($__ASSUMER_NAME PROFILE [OPTIONS] -- CMD ...)" >&2
        return 2
    fi
    command assumer exec ${__assumer_opts[@]+"${__assumer_opts[@]}"} "${__assumer_names[0]}" -- "$@"
}

__assumer_usage() {
    local n=$__ASSUMER_NAME
    printf '%s\n' \
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

# The current time in epoch seconds, into the caller's __assumer_now, without a process.
__assumer_time() {
    if [ -n "${EPOCHSECONDS-}" ]; then
        __assumer_now=$EPOCHSECONDS
    else
        printf -v __assumer_now '%(%s)T' -1
    fi
}

# Seconds left in the shell's session, into the caller's __assumer_left; fails when
# ASSUMER_EXPIRATION is missing or not a plain number (it is never evaluated as code).
__assumer_seconds_left() {
    case ${ASSUMER_EXPIRATION-} in '' | *[!0-9]*) return 1 ;; esac
    local __assumer_now
    __assumer_time
    __assumer_left=$((10#$ASSUMER_EXPIRATION - __assumer_now))
}

__assumer_show() {
    if [ -z "${ASSUMER_PROFILE-}" ]; then
        printf '%s\n' "$__ASSUMER_NAME: no profile assumed in this shell ($__ASSUMER_NAME PROFILE sets one)" >&2
        return 1
    fi
    local __assumer_left __assumer_line=$ASSUMER_PROFILE
    if __assumer_seconds_left; then
        if [ "$__assumer_left" -gt 0 ]; then
            __assumer_line+=": $((__assumer_left / 60)) min left"
        else
            __assumer_line+=": expired $(((59 - __assumer_left) / 60)) min ago"
        fi
        if [ -n "${AWS_CREDENTIAL_EXPIRATION-}" ]; then
            __assumer_line+=" (until $AWS_CREDENTIAL_EXPIRATION)"
        fi
    fi
    if [ "${AWS_ACCESS_KEY_ID-}" != "${ASSUMER_KEY_ID-}" ]; then
        __assumer_line+="; AWS_ACCESS_KEY_ID has changed since (not assumer's session)"
    fi
    printf '%s\n' "$__assumer_line"
}

# The prompt segment: "PROFILE (42m)", "PROFILE (expired)", nothing without a profile;
# "PARENT > PROFILE (42m)" in a subshell of `assumer exec` nested in PARENT's session.
# FORMAT (printf, default "%s") wraps it: PS1='\w$(assumer_prompt " [%s]")\$ '
assumer_prompt() {
    [ -n "${ASSUMER_PROFILE-}" ] || return 0
    local __assumer_left __assumer_segment=$ASSUMER_PROFILE
    if __assumer_seconds_left; then
        if [ "$__assumer_left" -gt 0 ]; then
            __assumer_segment+=" ($((__assumer_left / 60))m)"
        else
            __assumer_segment+=" (expired)"
        fi
    fi
    # Inside `assumer exec`'s subshell of another session: "outer > inner (42m)".
    [ -z "${ASSUMER_PARENT_PROFILE-}" ] || __assumer_segment="$ASSUMER_PARENT_PROFILE > $__assumer_segment"
    # shellcheck disable=SC2059 # the format is the caller's, the segment an argument
    printf -- "${1:-%s}" "$__assumer_segment"
}

# Opt-in renewal before each prompt (ASSUMER_AUTO_REFRESH=1): when less than
# min(ASSUMER_MIN_TTL, half the session's lifetime) seconds are left, the last `assume` of this shell runs again, quietly
# (or `assume "$ASSUMER_PROFILE"` when the session came from elsewhere); the keyring
# cache serves it when another shell already renewed. At most one attempt
# a minute, so a failure (offline, MFA not answered) does not slow every prompt.
__assumer_refresh_hook() {
    local __assumer_rc=$?
    if [ "${ASSUMER_AUTO_REFRESH-}" = 1 ] && [ -n "${ASSUMER_PROFILE-}" ]; then
        __assumer_refresh_if_due
    fi
    return "$__assumer_rc"
}

__assumer_refresh_if_due() {
    local __assumer_left __assumer_now __assumer_ttl=${ASSUMER_MIN_TTL-900} __assumer_half __assumer_rc=0
    case $__assumer_ttl in '' | *[!0-9]*) __assumer_ttl=900 ;; esac
    __assumer_seconds_left || return 0
    # The renewal rule: renew below min(ASSUMER_MIN_TTL, lifetime / 2), lifetime = expiry - obtained.
    case ${ASSUMER_OBTAINED-} in
        '' | *[!0-9]*) ;;
        *)
            __assumer_half=$(((10#$ASSUMER_EXPIRATION - 10#$ASSUMER_OBTAINED) / 2))
            if [ "$__assumer_half" -ge 0 ] && [ "$__assumer_half" -lt "$((10#$__assumer_ttl))" ]; then
                __assumer_ttl=$__assumer_half
            fi
            ;;
    esac
    [ "$__assumer_left" -lt "$((10#$__assumer_ttl))" ] || return 0
    __assumer_time
    case ${__ASSUMER_REFRESHED_AT-} in
        '' | *[!0-9]*) ;;
        *) [ "$((__assumer_now - __ASSUMER_REFRESHED_AT))" -ge 60 ] || return 0 ;;
    esac
    __ASSUMER_REFRESHED_AT=$__assumer_now
    if [ "${__ASSUMER_ARGS_FOR-}" = "$ASSUMER_PROFILE" ] && [ "${#__ASSUMER_ARGS[@]}" -gt 0 ]; then
        __assumer_main "${__ASSUMER_ARGS[@]}" >/dev/null 2>&1 || __assumer_rc=$?
    else
        __assumer_main "$ASSUMER_PROFILE" >/dev/null 2>&1 || __assumer_rc=$?
    fi
    if [ "$__assumer_rc" -ne 0 ]; then
        printf '%s\n' "assumer: could not renew the session of profile '$ASSUMER_PROFILE' (exit $__assumer_rc); run: $__ASSUMER_NAME '$ASSUMER_PROFILE'" >&2
    fi
    return 0
}

# Append the hook to PROMPT_COMMAND, string or (bash 5.1+) array, never replacing it.
__assumer_install_hook() {
    local __assumer_decl __assumer_entry
    __assumer_decl=$(declare -p PROMPT_COMMAND 2>/dev/null) || __assumer_decl=
    case $__assumer_decl in
        'declare -'*a*' PROMPT_COMMAND'*)
            for __assumer_entry in "${PROMPT_COMMAND[@]}"; do
                [ "$__assumer_entry" != __assumer_refresh_hook ] || return 0
            done
            PROMPT_COMMAND+=(__assumer_refresh_hook)
            ;;
        *)
            # shellcheck disable=SC2178,SC2179 # the string form, in this branch
            case ${PROMPT_COMMAND-} in
                *__assumer_refresh_hook*) ;;
                '') PROMPT_COMMAND=__assumer_refresh_hook ;;
                *) PROMPT_COMMAND+=$'\n'__assumer_refresh_hook ;;
            esac
            ;;
    esac
    return 0
}

# -- completion: click's protocol (_ASSUMER_COMPLETE=bash_complete) --------------------

# Ask assumer for the completions of the words given (the current word is the last);
# adds them to COMPREPLY.
__assumer_complete_words() {
    local IFS=$'\n' __assumer_response __assumer_item __assumer_type __assumer_value
    __assumer_response=$(env COMP_WORDS="$*" COMP_CWORD=$(($# - 1)) _ASSUMER_COMPLETE=bash_complete \
        assumer 2>/dev/null) || return 0
    for __assumer_item in $__assumer_response; do
        IFS=',' read -r __assumer_type __assumer_value <<<"$__assumer_item"
        case $__assumer_type in
            plain) COMPREPLY+=("$__assumer_value") ;;
            dir) compopt -o dirnames 2>/dev/null ;;
            file) compopt -o default 2>/dev/null ;;
        esac
    done
    return 0
}

# After "--" at word INDEX (of COMP_WORDS), complete a command and then its arguments.
__assumer_complete_command() {
    if declare -F _command_offset >/dev/null; then
        _command_offset "$(($1 + 1))"
    elif [ "$COMP_CWORD" -eq "$(($1 + 1))" ]; then
        mapfile -t COMPREPLY < <(compgen -c -- "${COMP_WORDS[COMP_CWORD]}")
    else
        compopt -o default 2>/dev/null
    fi
    return 0
}

# The index of the first "--" before the current word, into __assumer_at; fails without one.
__assumer_dashdash() {
    for ((__assumer_at = 1; __assumer_at < COMP_CWORD; __assumer_at++)); do
        [ "${COMP_WORDS[__assumer_at]}" != -- ] || return 0
    done
    return 1
}

# assumer exec PROFILE -- completes a command after "--"; everything else is click's.
__assumer_complete() {
    COMPREPLY=()
    local __assumer_at
    if [ "${COMP_WORDS[1]-}" = exec ] && __assumer_dashdash; then
        __assumer_complete_command "$__assumer_at"
        return 0
    fi
    __assumer_complete_words "${COMP_WORDS[@]:0:COMP_CWORD+1}"
}

# assume completes as `assumer env` does (profiles, options); after "--", a command.
__assumer_complete_assume() {
    COMPREPLY=()
    local __assumer_at
    if __assumer_dashdash; then
        __assumer_complete_command "$__assumer_at"
        return 0
    fi
    __assumer_complete_words assumer env "${COMP_WORDS[@]:1:COMP_CWORD}"
}

# Define the function under its name (default `assume`). Without --name, a name already
# taken by an alias or by a function of someone else's is left as it is (said once, in
# an interactive shell); --name NAME takes NAME whatever held it. Only a leading --name
# is read: `. FILE` without arguments sees the caller's own positional parameters.
__assumer_load() {
    local __assumer_name=assume __assumer_forced=0
    case ${1-} in
        --name) __assumer_name=${2-}; __assumer_forced=1 ;;
        --name=*) __assumer_name=${1#--name=}; __assumer_forced=1 ;;
    esac
    case $__assumer_name in
        '' | [!A-Za-z_]* | *[!A-Za-z0-9_-]*)
            printf '%s\n' "assumer: --name wants a command name (letters, digits, _ and -), not '$__assumer_name'" >&2
            return 2
            ;;
    esac
    if [ "$__assumer_forced" = 0 ]; then
        local __assumer_what=
        if alias "$__assumer_name" >/dev/null 2>&1; then
            __assumer_what="an alias"
        elif declare -F "$__assumer_name" >/dev/null; then
            case $(declare -f "$__assumer_name") in
                *'__assumer_main "$@"'*) ;;  # ours, from an earlier load
                *) __assumer_what="a function" ;;
            esac
        fi
        if [ -n "$__assumer_what" ]; then
            __ASSUMER_NAME=$__assumer_name
            case $- in
                *i*) printf '%s\n' "assumer: '$__assumer_name' is already $__assumer_what in this shell: left as it is; load assumer's with --name NAME (README: Shell integration)" >&2 ;;
            esac
            return 0
        fi
    fi
    unalias "$__assumer_name" 2>/dev/null || true
    # The name is checked above to be a plain word: nothing in it is code.
    eval "function $__assumer_name { __assumer_main \"\$@\"; }"
    __ASSUMER_NAME=$__assumer_name
    complete -o nosort -F __assumer_complete_assume "$__assumer_name" 2>/dev/null ||
        complete -F __assumer_complete_assume "$__assumer_name"
}

complete -o nosort -F __assumer_complete assumer 2>/dev/null ||
    complete -F __assumer_complete assumer
__assumer_install_hook
__assumer_load "$@"
