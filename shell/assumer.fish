# assumer: shell integration for fish (3.1 or later).
#
# Set-up, in ~/.config/fish/config.fish, either form:
#   source ~/.local/share/assumer/assumer.fish   written by `assumer shell-init fish --install`;
#                                                no Python start (the fast form)
#   assumer shell-init fish | source             prints this file (one Python start)
# Either takes --name NAME (`source FILE --name NAME`, `shell-init fish --name NAME`):
# the function's name, default `assume`. Without --name, an `assume` alias or function
# that is already defined (granted's, say) is left alone and said so; --name takes it.
#
#   assume PROFILE [OPTIONS]              set PROFILE's credentials in this shell
#   assume                                pick a profile on the terminal, then as above
#   assume PROFILE [OPTIONS] -- CMD ...   run one command with them (assumer exec)
#   assume --unset                        remove every variable assumer set
#   assume --status                       show the profile in use and the minutes left
#   assume -l | -c [PROFILE]              list the profiles | open the AWS console
#   assumer_prompt [FORMAT]               "PROFILE (42m)" for fish_prompt; no process
#                                         started (fish 3.5+; older ones run `date`)
#   set -g ASSUMER_AUTO_REFRESH 1         renew the session at the prompt once less than
#                                         min(ASSUMER_MIN_TTL (default 900), half its lifetime) seconds are left
#
# OPTIONS are assumer's session options: --duration, --mfa-code, --refresh, --no-cache,
# --region, --source-profile. The quoting of the values lives in `assumer env` alone;
# this file only sources what it prints, and only when it succeeded. The lines use
# `set -gx` / `set -e -g`, so they reach the global scope from inside these functions.
#
# fish has no xtrace option but $fish_trace: every function here that touches the
# secrets shadows it with an empty local, so a traced shell never prints them.
# Helpers are named __assumer_*.

function __assumer_main
    set -l fish_trace
    if test (count $argv) -eq 0
        # The picker (assumer env without PROFILE) draws on /dev/tty; Esc is exit 130.
        __assumer_eval; or return
        __assumer_remember "$ASSUMER_PROFILE"
        __assumer_say
        return 0
    end
    switch $argv[1]
        case -h --help
            __assumer_usage
            return 0
        case --status
            __assumer_show
            return
        case -l --list
            command assumer list $argv[2..-1]
            return
        case -c --console
            command assumer login $argv[2..-1]
            return
        case --unset
            if test (count $argv) -ne 1
                echo "$__assumer_name: --unset takes no other argument" >&2
                return 2
            end
            __assumer_eval --unset; or return
            set -e -g __assumer_args __assumer_args_for
            return 0
    end
    # Help anywhere before -- is printed, never evaluated (assumer env would print
    # click's help on stdout, and sourcing it would run "Usage:" as a command).
    for arg in $argv
        test "$arg" = --; and break
        if contains -- $arg -h --help
            __assumer_usage
            return 0
        end
    end
    if contains -- -- $argv
        __assumer_exec $argv
        return
    end
    __assumer_eval $argv; or return
    __assumer_remember $argv
    __assumer_say
end

# One line on stderr after a successful assume, in an interactive shell only (scripts
# stay quiet): the profile, its region, the minutes left.
function __assumer_say
    status is-interactive; and test -n "$ASSUMER_PROFILE"; or return 0
    set -l line "$__assumer_name: profile $ASSUMER_PROFILE"
    test -z "$ASSUMER_ACCOUNT"; or set line "$line, account $ASSUMER_ACCOUNT"
    test -z "$AWS_REGION"; or set line "$line, region $AWS_REGION"
    if set -l left (__assumer_seconds_left)
        set line "$line, "(math -s0 $left / 60)" min left"
    end
    test -z "$ASSUMER_PARENT_PROFILE"; or set line "$line (nested inside $ASSUMER_PARENT_PROFILE's subshell)"
    printf '%s\n' $line >&2
end

# Capture first, check the status, only then evaluate: a failing assumer leaves the
# shell's variables as they were and its exit status is returned.
function __assumer_eval
    set -l fish_trace
    set -l code (command assumer env $argv --shell fish)
    or return
    # `set` passes the previous status along (set -e of an unset name: 4), so the
    # status of the sourced lines means nothing: assumer's own status was checked.
    printf '%s\n' $code | source
    return 0
end

# The options of the last assume, for the refresh at the prompt: a one-time MFA code
# and --refresh are left out, --region, --duration and the rest are kept.
function __assumer_remember
    set -l fish_trace
    set -l keep
    while set -q argv[1]
        switch $argv[1]
            case --refresh '--mfa-code=*'
            case --mfa-code
                set -q argv[2]; and set -e argv[1]
            case '*'
                set -a keep $argv[1]
        end
        set -e argv[1]
    end
    set -g __assumer_args $keep
    set -g __assumer_args_for "$ASSUMER_PROFILE"
end

# assumer exec stops reading its own options at PROFILE, so they go before it.
function __assumer_exec
    set -l fish_trace
    set -l opts
    set -l names
    while test "$argv[1]" != --
        switch $argv[1]
            case --duration --mfa-code --region --source-profile
                set -a opts $argv[1]
                if test (count $argv) -ge 2 -a "$argv[2]" != --
                    set -a opts $argv[2]
                    set -e argv[1]
                end
            case '-*'
                set -a opts $argv[1]
            case '*'
                set -a names $argv[1]
        end
        set -e argv[1]
    end
    set -e argv[1]
    if test (count $names) -ne 1
        echo "$__assumer_name: name one PROFILE before -- ($__assumer_name PROFILE [OPTIONS] -- CMD ...)" >&2
        return 2
    end
    command assumer exec $opts $names[1] -- $argv
end

function __assumer_usage
    set -l n $__assumer_name
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
end

# The current time in epoch seconds. fish has no clock variable; `path mtime` (3.5+)
# gives a file's modification time and, with --relative, the seconds since: their sum
# is now, without starting a process.
if builtin -n | string match -q path
    function __assumer_time
        math (path mtime -- /) + (path mtime --relative -- /)
    end
else
    function __assumer_time
        command date +%s
    end
end

# Seconds left in the shell's session; fails when ASSUMER_EXPIRATION is missing or not
# a plain number.
function __assumer_seconds_left
    test (count $ASSUMER_EXPIRATION) -eq 1
    and string match -qr '^[0-9]+$' -- $ASSUMER_EXPIRATION
    or return 1
    math $ASSUMER_EXPIRATION - (__assumer_time)
end

function __assumer_show
    if test -z "$ASSUMER_PROFILE"
        echo "$__assumer_name: no profile assumed in this shell ($__assumer_name PROFILE sets one)" >&2
        return 1
    end
    set -l line "$ASSUMER_PROFILE"
    if set -l left (__assumer_seconds_left)
        if test $left -gt 0
            set line "$line: "(math -s0 $left / 60)" min left"
        else
            set line "$line: expired "(math -s0 \( 59 - $left \) / 60)" min ago"
        end
        if test -n "$AWS_CREDENTIAL_EXPIRATION"
            set line "$line (until $AWS_CREDENTIAL_EXPIRATION)"
        end
    end
    if test "$AWS_ACCESS_KEY_ID" != "$ASSUMER_KEY_ID"
        set line "$line; AWS_ACCESS_KEY_ID has changed since (not assumer's session)"
    end
    printf '%s\n' $line
end

# The prompt segment: "PROFILE (42m)", "PROFILE (expired)", nothing without a profile;
# "PARENT > PROFILE (42m)" in a subshell of `assumer exec` nested in PARENT's session.
# FORMAT (printf, default "%s") wraps it: in fish_prompt, assumer_prompt ' [%s]'
function assumer_prompt --description "The assumer profile and minutes left, for a prompt"
    test -n "$ASSUMER_PROFILE"; or return 0
    set -l segment "$ASSUMER_PROFILE"
    if set -l left (__assumer_seconds_left)
        if test $left -gt 0
            set segment "$segment ("(math -s0 $left / 60)"m)"
        else
            set segment "$segment (expired)"
        end
    end
    # Inside `assumer exec`'s subshell of another session: "outer > inner (42m)".
    test -z "$ASSUMER_PARENT_PROFILE"; or set segment "$ASSUMER_PARENT_PROFILE > $segment"
    set -l format %s
    if set -q argv[1]
        set format $argv[1]
    end
    printf $format $segment
end

# Opt-in renewal before each prompt (ASSUMER_AUTO_REFRESH=1): when less than
# min(ASSUMER_MIN_TTL, half the session's lifetime) seconds are left, the last `assume` of this shell runs again, quietly
# (or `assume $ASSUMER_PROFILE` when the session came from elsewhere); the keyring cache
# serves it when another shell already renewed. At most one attempt a minute, so
# a failure (offline, MFA not answered) does not slow every prompt.
function __assumer_refresh --on-event fish_prompt
    set -l fish_trace
    test "$ASSUMER_AUTO_REFRESH" = 1 -a -n "$ASSUMER_PROFILE"; or return 0
    set -l ttl 900
    if test (count $ASSUMER_MIN_TTL) -eq 1; and string match -qr '^[0-9]+$' -- $ASSUMER_MIN_TTL
        set ttl $ASSUMER_MIN_TTL
    end
    set -l left (__assumer_seconds_left); or return 0
    # The renewal rule: renew below min(ASSUMER_MIN_TTL, lifetime / 2), lifetime = expiry - obtained.
    if test (count $ASSUMER_OBTAINED) -eq 1; and string match -qr '^[0-9]+$' -- $ASSUMER_OBTAINED
        set -l half (math --scale=0 "($ASSUMER_EXPIRATION - $ASSUMER_OBTAINED) / 2")
        if test $half -ge 0 -a $half -lt $ttl
            set ttl $half
        end
    end
    test $left -lt $ttl; or return 0
    set -l now (__assumer_time)
    if string match -qr '^[0-9]+$' -- "$__assumer_refreshed_at"
        test (math $now - $__assumer_refreshed_at) -ge 60; or return 0
    end
    set -g __assumer_refreshed_at $now
    if test "$__assumer_args_for" = "$ASSUMER_PROFILE" -a (count $__assumer_args) -gt 0
        __assumer_main $__assumer_args >/dev/null 2>&1
    else
        __assumer_main $ASSUMER_PROFILE >/dev/null 2>&1
    end
    set -l rc $status
    if test $rc -ne 0
        echo "assumer: could not renew the session of profile '$ASSUMER_PROFILE' (exit $rc); run: $__assumer_name '$ASSUMER_PROFILE'" >&2
    end
    return 0
end

# -- completion: click's protocol (_ASSUMER_COMPLETE=fish_complete) ---------------------

# Completions for an assumer command line: the tokens before the cursor, then the
# current token (both unescaped, as `commandline -opc` / `-ct` give them).
function __assumer_candidates
    set -l words (string escape -- $argv[1..-2])
    set -l current
    if test -n "$argv[-1]"
        set current (string escape -- $argv[-1])
        set -a words $current
    end
    set -l response (env _ASSUMER_COMPLETE=fish_complete COMP_WORDS="$words" COMP_CWORD="$current" assumer 2>/dev/null)
    for completion in $response
        set -l metadata (string split -m 1 , -- $completion)
        switch $metadata[1]
            case dir
                __fish_complete_directories $metadata[2]
            case file
                __fish_complete_path $metadata[2]
            case plain
                printf '%s\n' $metadata[2]
        end
    end
end

# assumer exec PROFILE -- completes a command after "--"; everything else is click's.
function __assumer_complete
    set -l tokens (commandline -opc)
    set -l current (commandline -ct)
    if test "$tokens[2]" = exec; and set -l index (contains -i -- -- $tokens)
        set -l after $tokens[(math $index + 1)..-1] $current
        complete -C (string join ' ' -- (string escape -- $after[1..-2]) $current)
        return
    end
    __assumer_candidates $tokens $current
end

# assume completes as `assumer env` does (profiles, options); after "--", a command.
function __assumer_complete_assume
    set -l tokens (commandline -opc)
    set -l current (commandline -ct)
    if set -l index (contains -i -- -- $tokens)
        set -l after $tokens[(math $index + 1)..-1] $current
        complete -C (string join ' ' -- (string escape -- $after[1..-2]) $current)
        return
    end
    __assumer_candidates assumer env $tokens[2..-1] $current
end

# Define the function under its name (default `assume`). Without --name, a name already
# taken by an alias or by a function of someone else's is left as it is (said once, in
# an interactive shell); --name NAME takes NAME whatever held it.
function __assumer_load
    set -l name assume
    set -l forced 0
    switch "$argv[1]"
        case --name
            set name "$argv[2]"
            set forced 1
        case '--name=*'
            set name (string replace -- --name= '' $argv[1])
            set forced 1
    end
    if not string match -qr '^[A-Za-z_][A-Za-z0-9_-]*$' -- "$name"
        echo "assumer: --name wants a command name (letters, digits, _ and -), not '$name'" >&2
        return 2
    end
    set -g __assumer_name $name
    if test $forced = 0; and functions -q -- $name
        # fish's aliases are functions too; ours calls __assumer_main.
        if not functions -- $name | string match -q '*__assumer_main $argv*'
            status is-interactive
            and echo "assumer: '$name' is already a function or alias in this shell: left as it is; load assumer's with --name NAME (README: Shell integration)" >&2
            return 0
        end
    end
    # The name is checked above to be a plain word: nothing in it is code.
    function $name --description "Set an AWS profile's credentials in this shell (assumer)"
        __assumer_main $argv
    end
    complete -e -c $name
    complete -c $name -f -a '(__assumer_complete_assume)'
end

complete -c assumer -f -a '(__assumer_complete)'
__assumer_load $argv
