#!/usr/bin/env bash
# The performance benchmark (README "Performance"):
#   bash tests/bench/run.sh [--runs N] [--output FILE]
#
# Installs what it needs (the project's .venv through tests/tools/setup.sh, Debian jq and
# time, awsume into its own venv under $ASSUMER_BENCH_CACHE, default
# /tmp/assumer-bench-cache, kept between runs), then, with a throw-away HOME, starts a
# private dbus session with an unlocked gnome-keyring and runs tests/bench/compare.py,
# which starts moto and the recording proxy on 127.0.0.1 and prints the markdown report.
# Everything it started or wrote (the awsume venv aside) goes at exit.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# shellcheck source-path=SCRIPTDIR source=../tools/setup.sh
. "$REPO/tests/tools/setup.sh"
TEST_DEBS+=(time)
assumer_setup

CACHE=${ASSUMER_BENCH_CACHE:-/tmp/assumer-bench-cache}
AWSUME_VENV="$CACHE/awsume-venv"
if [ ! -x "$AWSUME_VENV/bin/awsumepy" ]; then
    say "installing awsume into $AWSUME_VENV"
    mkdir -p "$CACHE"
    python3 -m venv "$AWSUME_VENV" >&2
    "$AWSUME_VENV/bin/pip" install -q --disable-pip-version-check awsume >&2 2> >(grep -v '^WARNING: Location' >&2)
fi

# Bytecode as an installed package has it: PYTHONDONTWRITEBYTECODE would make every
# run compile the project's modules again.
unset PYTHONDONTWRITEBYTECODE
"$VENV/bin/python" -m compileall -q "$REPO/assumer" "$REPO/tests/bench" "$REPO/tests/tools" >/dev/null
for env_dir in "$VENV" "$AWSUME_VENV"; do
    "$env_dir/bin/python" -m compileall -q "$("$env_dir/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')" >/dev/null || true
done

# -- clean-up ----------------------------------------------------------------------
WORK=$(mktemp -d "${TMPDIR:-/tmp}/assumer-bench.XXXXXX")
cleanup() {
    stop_keyring || true
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

mkdir -m 700 "$WORK/home" "$WORK/run"
while read -r name; do unset "$name"; done < <(compgen -e | grep -E '^(AWS_|ASSUMER_|XDG_|PYTHON)' || true)
unset DBUS_SESSION_BUS_ADDRESS
export HOME="$WORK/home" XDG_RUNTIME_DIR="$WORK/run" TMPDIR="$WORK"

start_keyring

# --output FILE is relative to where the command was run, not to $REPO.
args=()
while [ "$#" -gt 0 ]; do
    case "$1" in
        --output) args+=(--output "$(realpath -m -- "${2:?--output needs a file}")"); shift 2 ;;
        --output=*) args+=(--output "$(realpath -m -- "${1#--output=}")"); shift ;;
        *) args+=("$1"); shift ;;
    esac
done
cd "$REPO"
"$VENV/bin/python" -m tests.bench.compare --awsume-venv "$AWSUME_VENV" ${args[@]+"${args[@]}"}
