#!/usr/bin/env bash
# Runs tests/bench/keyring_read.py in the project's venv against a private dbus session
# with a fresh, unlocked gnome-keyring and a throw-away HOME (nothing real is touched).
#   bash tests/bench/keyring_read.sh [--runs N]
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# shellcheck source=../tools/setup.sh
. "$REPO/tests/tools/setup.sh"
assumer_setup

unset XDG_CONFIG_HOME XDG_DATA_HOME DBUS_SESSION_BUS_ADDRESS PYTHON_KEYRING_BACKEND
BENCH_HOME=$(mktemp -d "${TMPDIR:-/tmp}/assumer-bench-home.XXXXXX")
trap 'rm -rf "$BENCH_HOME"' EXIT
mkdir -m 700 "$BENCH_HOME/run"
export HOME="$BENCH_HOME" XDG_RUNTIME_DIR="$BENCH_HOME/run"

cd "$BENCH_HOME"  # "" on sys.path: an empty directory, as for an installed command
# Not exec: the EXIT trap above must still run to remove $BENCH_HOME.
dbus-run-session -- sh -c \
    'printf pw | gnome-keyring-daemon --unlock --components=secrets >/dev/null; exec "$0" "$@"' \
    "$VENV/bin/python" "$REPO/tests/bench/keyring_read.py" "$@"
