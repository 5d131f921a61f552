#!/usr/bin/env bash
# The part of tests/run.sh that runs inside its private dbus session:
#   bash tests/tools/in_session.sh PYTHON BASETEMP [pytest arguments]
#
# Starts gnome-keyring with an unlocked login collection, runs pytest, and fails the
# run when the keyring daemon did not live through it. A daemon that dies mid-run is
# replaced by D-Bus activation with a locked collection, so every later keyring test
# fails with a keyring error that names no cause; this says what happened instead.
# (gnome-keyring 42 once aborted here on an OpenSession handled before it had
# registered the caller: see assumer/store/secretservice.py, Reader.)
set -u

python=$1 base=$2
shift 2

printf pw | gnome-keyring-daemon --unlock --components=secrets >/dev/null

# The process that owns org.freedesktop.secrets, or nothing (asking does not start one).
secret_service_pid() {
    dbus-send --session --print-reply=literal --dest=org.freedesktop.DBus /org/freedesktop/DBus \
        org.freedesktop.DBus.GetConnectionUnixProcessID string:org.freedesktop.secrets 2>/dev/null |
        awk '{print $2}'
}

# The daemon takes its name on the bus a moment after the command above returns.
started=""
for _ in $(seq 100); do
    started=$(secret_service_pid)
    [ -n "$started" ] && break
    sleep 0.05
done
if [ -z "$started" ]; then
    echo "tests/run.sh: gnome-keyring-daemon did not take org.freedesktop.secrets on the session bus within 5 s" >&2
fi

status=0
"$python" -m pytest --basetemp="$base" "$@" || status=$?

now=$(secret_service_pid)
if [ -n "$started" ] && [ "$now" != "$started" ]; then
    replaced=""
    if [ -n "$now" ]; then
        replaced=" and D-Bus started pid $now in its place, with the login collection locked"
    fi
    echo "tests/run.sh: the suite's gnome-keyring-daemon (pid $started) died during the run$replaced" \
        "(the kernel log, dmesg, may say how); keyring failures after that point follow from it" >&2
    if [ "$status" -eq 0 ]; then
        status=1
    fi
fi
exit "$status"
