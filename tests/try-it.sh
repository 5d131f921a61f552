#!/usr/bin/env bash
# The README's "try it": bash tests/try-it.sh
#
# On a fresh Debian machine (as root) it installs what it needs, then starts on
# 127.0.0.1 a private keyring (dbus + gnome-keyring), a moto server holding user U
# and role R (see tests/tools/moto_server.py) and the recording proxy in front of it,
# writes a throw-away ~/.aws for u and r, and shows env / exec / whoami and a second
# env served from the keyring cache. Everything it started or wrote goes at exit.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=tools/setup.sh
. "$REPO/tests/tools/setup.sh"
assumer_setup

# -- clean-up: every start below registers its stop here, run in reverse at exit ----
AT_EXIT=()
at_exit() { AT_EXIT+=("$*"); }
cleanup() {
    local i
    for ((i = ${#AT_EXIT[@]} - 1; i >= 0; i--)); do eval "${AT_EXIT[i]}" || true; done
}
trap cleanup EXIT
trap 'exit 130' INT TERM

heading() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
# Show the command, then run it: what the reader would type.
show() { printf '$ %s\n' "$*"; "$@"; }

WORK=$(mktemp -d "${TMPDIR:-/tmp}/assumer-try-it.XXXXXX")
at_exit rm -rf "$WORK"
mkdir -m 700 "$WORK/home" "$WORK/run"

# A private user: nothing of the caller's AWS, assumer or XDG setup is used or touched.
while read -r name; do unset "$name"; done < <(compgen -e | grep -E '^(AWS|ASSUMER|XDG)_' || true)
export HOME="$WORK/home" XDG_RUNTIME_DIR="$WORK/run" PATH="$VENV/bin:$PATH"
export AWS_EC2_METADATA_DISABLED=true  # never probe instance metadata off loopback
cd "$REPO"

start_keyring
at_exit stop_keyring

# wait_for FILE PID: until FILE is non-empty, or fail when PID has died or after 60 s.
wait_for() {
    local tries=600
    until [ -s "$1" ]; do
        kill -0 "$2" 2>/dev/null || { say "process $2 died; see $WORK"; return 1; }
        ((tries-- > 0)) || { say "timed out waiting for $1"; return 1; }
        sleep 0.1
    done
}

python -m tests.tools.moto_server --world "$WORK/world.json" --log "$WORK/moto.log" &
MOTO_PID=$!
at_exit "kill $MOTO_PID 2>/dev/null; wait $MOTO_PID 2>/dev/null"
wait_for "$WORK/world.json" "$MOTO_PID"
MOTO_URL=$(jq -r .endpoint "$WORK/world.json")

python -m tests.tools.recording_proxy --upstream "$MOTO_URL" > "$WORK/proxy.url" &
PROXY_PID=$!
at_exit "kill $PROXY_PID 2>/dev/null; wait $PROXY_PID 2>/dev/null"
wait_for "$WORK/proxy.url" "$PROXY_PID"
PROXY_URL=$(head -n1 "$WORK/proxy.url")
export AWS_ENDPOINT_URL="$PROXY_URL"

proxy_count() {
    python -c 'import sys; from tests.tools.recording_proxy import ProxyClient
print(ProxyClient(sys.argv[1]).count(sys.argv[2]))' "$PROXY_URL" "$1"
}

mkdir -m 700 "$HOME/.aws"
cat > "$HOME/.aws/config" <<EOF
[profile u]
region = ap-northeast-1

[profile r]
role_arn = $(jq -r .role_r "$WORK/world.json")
source_profile = u
region = ap-northeast-1
EOF
( umask 077; jq -r '"[u]\naws_access_key_id = \(.u.access_key_id)\naws_secret_access_key = \(.u.secret_access_key)"' \
    "$WORK/world.json" > "$HOME/.aws/credentials" )

heading "Set-up: moto at $MOTO_URL behind the recording proxy at $PROXY_URL; ~/.aws/config:"
cat "$HOME/.aws/config"

heading "assumer env r   (first call: AssumeRole, the session goes to the keyring)"
show assumer env r

heading "assumer exec r -- aws sts get-caller-identity"
show assumer exec r -- aws sts get-caller-identity

heading "assumer whoami r"
show assumer whoami r

heading "assumer env r again, timed: served from the keyring, STS is not called"
before=$(proxy_count AssumeRole)
time (assumer env r >/dev/null)
after=$(proxy_count AssumeRole)
echo "AssumeRole calls that reached STS: $before before, $after after the second env"
[ "$before" = "$after" ] || { say "the second call was not served from the cache"; exit 1; }

# -- HOOK: ECR ---------------------------------------------------------------------
# Later steps (ECR login and push) go in tests/try-it-ecr.sh, sourced here. They can
# use: $REPO $VENV $WORK (scratch, removed at exit) $HOME (with ~/.aws for u and r)
# $MOTO_URL $PROXY_URL $AWS_ENDPOINT_URL, the functions heading, show, say, wait_for,
# proxy_count, and `at_exit COMMAND` to register their own clean-up.
if [ -f "$REPO/tests/try-it-ecr.sh" ]; then
    # shellcheck source=/dev/null
    . "$REPO/tests/try-it-ecr.sh"
fi
# -- end of HOOK -------------------------------------------------------------------

heading "done: stopping the services and removing $WORK"
