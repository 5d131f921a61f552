#!/usr/bin/env bash
# The project's test command: bash tests/run.sh [pytest arguments]
#
# Installs what the suite needs (Debian packages when missing, the venv in .venv),
# runs ruff and mypy, then runs pytest inside a private dbus session with an unlocked
# gnome-keyring (tests/tools/in_session.sh), so the cache is tested against a real Secret
# Service. HOME is a throw-away directory for the whole run. Exits with pytest's status,
# or 1 when ruff or mypy found a problem (pytest still runs) or the keyring daemon died
# during the run; "no tests collected" is a failure.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=tools/setup.sh
. "$REPO/tests/tools/setup.sh"
assumer_setup

# Nothing of the caller's AWS or assumer setup may leak into the tests.
while read -r name; do unset "$name"; done < <(compgen -e | grep -E '^(AWS|ASSUMER)_' || true)
unset XDG_CONFIG_HOME XDG_DATA_HOME XDG_STATE_HOME XDG_CACHE_HOME DBUS_SESSION_BUS_ADDRESS

TEST_HOME=$(mktemp -d "${TMPDIR:-/tmp}/assumer-test-home.XXXXXX")
trap 'rm -rf "$TEST_HOME"' EXIT
mkdir -m 700 "$TEST_HOME/run"
export HOME="$TEST_HOME" XDG_RUNTIME_DIR="$TEST_HOME/run"
# conftest.py leaves the keyring daemon's own (encrypted) store out of secret scans.
export TESTS_KEYRING_HOME="$TEST_HOME"
export PATH="$VENV/bin:$PATH"

cd "$REPO"
# Lint and type checks first (settings in pyproject.toml); either failing fails the run.
# Lint and types first; their failure fails the run, after pytest has had its say.
lint=""
"$VENV/bin/ruff" check assumer tests || lint="ruff"
"$VENV/bin/mypy" || lint="${lint:+$lint and }mypy"

# A private basetemp: other pytest runs of the same user prune /tmp/pytest-of-$USER.
status=0
dbus-run-session -- bash "$REPO/tests/tools/in_session.sh" "$VENV/bin/python" "$TEST_HOME/pytest" "$@" || status=$?
if [ "$status" -eq 5 ]; then
    echo "tests/run.sh: pytest collected no tests; that is a failure" >&2
    status=1
fi
if [ -n "$lint" ] && [ "$status" -eq 0 ]; then
    echo "tests/run.sh: the tests passed, but $lint found problems (see above); that is a failure" >&2
    status=1
fi
exit "$status"
