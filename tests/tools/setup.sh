# Shared set-up for tests/run.sh and tests/try-it.sh: sourced, not run.
#
# assumer_setup installs what the test services need on a fresh Debian machine
# (as root; only when something is missing) and the project's venv in $REPO/.venv.
# Afterwards "$VENV/bin" holds python, pytest, assumer, aws and moto_server.

REPO=${REPO:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
VENV="$REPO/.venv"

# Debian packages: the Secret Service (gnome-keyring on a dbus session bus), the
# shells the flows are tested in, the registry and engine of the ECR tests, and
# htpasswd for the registry's bcrypt password file; shellcheck and GNU time for the
# shell-script lint and the benchmark tools' tests; openssl for the registry's certificate.
TEST_DEBS=(gnome-keyring dbus-daemon zsh fish podman skopeo docker-registry
           apache2-utils jq shellcheck time openssl)

say() { printf '%s\n' "$*" >&2; }

missing_debs() {
    local pkg
    for pkg in "$@"; do
        # dpkg-query, not "dpkg -s | grep -q": grep leaving early breaks the pipe.
        [ "$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null)" = "install ok installed" ] ||
            printf '%s\n' "$pkg"
    done
}

# Install under a policy-rc.d that forbids starting services: docker-registry's
# package would otherwise start a registry on 0.0.0.0:5000.
apt_install() {
    local policy=/usr/sbin/policy-rc.d saved=""
    if [ -e "$policy" ]; then saved=$(mktemp); cp -p "$policy" "$saved"; fi
    printf '#!/bin/sh\nexit 101\n' > "$policy"
    chmod 755 "$policy"
    local status=0
    {
        DEBIAN_FRONTEND=noninteractive apt-get update -qq &&
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@"
    } >&2 || status=$?
    if [ -n "$saved" ]; then mv "$saved" "$policy"; else rm -f "$policy"; fi
    return "$status"
}

install_debs() {
    local missing
    mapfile -t missing < <(missing_debs "${TEST_DEBS[@]}")
    [ "${#missing[@]}" -eq 0 ] || {
        if [ "$(id -u)" != 0 ]; then
            say "missing Debian packages: ${missing[*]} (run as root, or install them yourself)"
            return 1
        fi
        say "installing Debian packages: ${missing[*]}"
        apt_install "${missing[@]}" || return 1
    }
    # The docker CLI (client only) drives podman in the ECR tests. This kind of machine
    # ships it; elsewhere only the small docker-cli package will do (docker.io would
    # bring a whole daemon), and Debian 12 has none.
    command -v docker >/dev/null && return 0
    local policy
    policy=$(apt-cache policy docker-cli 2>/dev/null)
    if [ "$(id -u)" = 0 ] && [[ $policy == *"Candidate: "[0-9]* ]]; then
        apt_install docker-cli || return 1
    else
        say "no docker CLI on PATH: the ECR engine tests will fail"
    fi
}

# The venv is reused when it already has the project installed; pip is asked again
# only when pyproject.toml is newer than the last install.
install_venv() {
    local stamp="$VENV/.assumer-installed"
    [ -x "$VENV/bin/python" ] || python3 -m venv "$VENV" >&2 || return 1
    if [ ! -e "$stamp" ] || [ "$REPO/pyproject.toml" -nt "$stamp" ]; then
        say "installing the project into $VENV"
        "$VENV/bin/pip" install -q --disable-pip-version-check -e "$REPO[test]" >&2 || return 1
        touch "$stamp"
    fi
}

assumer_setup() {
    install_debs && install_venv
}

# Start a private dbus session bus with an unlocked gnome-keyring (Secret Service)
# in the current shell; HOME must already point at a throw-away directory.
# Sets DBUS_SESSION_BUS_ADDRESS and KEYRING_DAEMON_PID; stop with stop_keyring.
start_keyring() {
    local out
    out=$(dbus-daemon --session --fork --print-address=1 --print-pid=1) || return 1
    DBUS_SESSION_BUS_ADDRESS=$(printf '%s\n' "$out" | sed -n 1p)
    DBUS_DAEMON_PID=$(printf '%s\n' "$out" | sed -n 2p)
    export DBUS_SESSION_BUS_ADDRESS
    printf pw | gnome-keyring-daemon --unlock --components=secrets >/dev/null
}

stop_keyring() {
    # gnome-keyring-daemon leaves when its bus goes away.
    [ -n "${DBUS_DAEMON_PID:-}" ] && kill "$DBUS_DAEMON_PID" 2>/dev/null
    DBUS_DAEMON_PID=""
}
