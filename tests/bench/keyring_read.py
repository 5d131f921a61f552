"""Time one cached-secret read, whole process, by each route to the Secret Service.

    bash tests/bench/keyring_read.sh [--runs 15]   # its own dbus session and gnome-keyring
    python tests/bench/keyring_read.py [--runs 15] # inside a session that has a keyring

Each row is a fresh ``python -c`` in this interpreter's venv, against the same
keyring, run interleaved (A B C ... A B C ...) after one warm-up round. It prints a
markdown table: median, min and max wall time, the ratio of the median to the
``import keyring`` baseline, and the peak RSS of the process.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time

SERVICE = "assumer-bench"
USERNAME = "probe"
# The size of a cached session (credentials JSON with a session token), so that an
# encrypted session's decryption costs what it costs on a cache hit.
VALUE = "bench-value-" + "x" * 1400

ROWS = {
    "python -c pass": "pass",
    "baseline: import keyring; keyring.get_password": (
        f"import keyring; keyring.get_password({SERVICE!r}, {USERNAME!r})"
    ),
    "keyring with PYTHON_KEYRING_BACKEND=SecretService": (
        f"import os; os.environ['PYTHON_KEYRING_BACKEND'] = 'keyring.backends.SecretService.Keyring'\n"
        f"import keyring; keyring.get_password({SERVICE!r}, {USERNAME!r})"
    ),
    "secretstorage directly": (
        "import secretstorage\n"
        "with secretstorage.dbus_init() as c:\n"
        "    col = secretstorage.get_default_collection(c)\n"
        f"    [i.get_secret() for i in col.search_items({{'service': {SERVICE!r}, 'username': {USERNAME!r}}})]"
    ),
    "assumer.store.secretservice.get_password (encrypted session, AES in Python)": (
        f"from assumer.store.secretservice import get_password; assert get_password({SERVICE!r}, {USERNAME!r})"
    ),
}
# The lean read as secretservice.py does it, with a plain and with an encrypted session
# (tests/bench/secretservice_session.py): the same code but for the session.
_SESSION_READ = os.path.join(os.path.dirname(os.path.abspath(__file__)), "secretservice_session.py")
for _mode, _label in (("plain", "plain session"), ("dh", "encrypted session, AES by cryptography"),
                      ("dh-python", "encrypted session, AES in Python (the reader's session, calls one at a time)")):
    ROWS[f"lean read, {_label}"] = (
        f"import runpy; assert runpy.run_path({_SESSION_READ!r})['read']({SERVICE!r}, {USERNAME!r}, {_mode!r})"
    )
# The limit (tests/bench/jeepney_read.py): the same read with nothing else, both sessions.
_JEEPNEY_READ = os.path.join(os.path.dirname(os.path.abspath(__file__)), "jeepney_read.py")
for _mode in ("plain", "encrypted"):
    ROWS[f"the limit: jeepney_read.py, {_mode} session"] = (
        # exec, not runpy: runpy's own imports would be charged to the limit
        f"import sys; sys.argv = ['', {SERVICE!r}, {USERNAME!r}, {_mode!r}]; "
        f"exec(compile(open({_JEEPNEY_READ!r}).read(), {_JEEPNEY_READ!r}, 'exec'), {{'__name__': '__main__'}})"
    )
BASELINE = "baseline: import keyring; keyring.get_password"


# Appended to each row: the process's own peak RSS. (The rusage of a child counts the
# memory of the benchmark process it was forked from, which would swamp the figure.)
REPORT_PEAK = (
    "\nimport sys\nsys.stderr.write([l for l in open('/proc/self/status') if l.startswith('VmHWM')][0])"
)


def run_once(code: str) -> tuple[float, int]:
    """Wall seconds and peak RSS (KiB) of one ``python -c code``."""
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", code + REPORT_PEAK], check=False, capture_output=True, text=True
    )
    elapsed = time.perf_counter() - started
    if done.returncode:
        raise SystemExit(f"failed ({done.returncode}): {code}\n{done.stderr}")
    return elapsed, int(done.stderr.split()[-2])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15, help="timed rounds (default 15)")
    args = parser.parse_args()
    if not os.environ.get("DBUS_SESSION_BUS_ADDRESS"):
        raise SystemExit("no session bus: run `bash tests/bench/keyring_read.sh` instead")

    # Compiled like an installed package, whatever PYTHONDONTWRITEBYTECODE says: the
    # other rows read site-packages, where pip wrote the bytecode at install time.
    import assumer

    subprocess.run([sys.executable, "-m", "compileall", "-q", os.path.dirname(assumer.__file__)], check=True)
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)

    import keyring

    keyring.set_password(SERVICE, USERNAME, VALUE)
    try:
        times: dict[str, list[float]] = {row: [] for row in ROWS}
        rss: dict[str, int] = {row: 0 for row in ROWS}
        for round_ in range(args.runs + 1):
            for row, code in ROWS.items():
                elapsed, peak = run_once(code)
                if round_:  # round 0 warms the page cache and the daemon
                    times[row].append(elapsed)
                    rss[row] = max(rss[row], peak)
    finally:
        keyring.delete_password(SERVICE, USERNAME)

    base = statistics.median(times[BASELINE])
    print(f"{args.runs} interleaved runs each, Python {sys.version.split()[0]}, {os.uname().machine}\n")
    print("| route | median | min | max | ratio to baseline | peak RSS |")
    print("| --- | --- | --- | --- | --- | --- |")
    for row, samples in times.items():
        median = statistics.median(samples)
        print(
            f"| {row} | {median:.3f} s | {min(samples):.3f} s | {max(samples):.3f} s "
            f"| {median / base:.2f}x | {rss[row] / 1024:.0f} MiB |"
        )


if __name__ == "__main__":
    main()
