"""The cached session never crosses the D-Bus in the clear (issue 11, section 4).

A bus monitor (``dbus-monitor --binary``, as a user debugging something else might run)
records every message of the suite's session bus while a real ``assumer env r`` is
served from the cache by the lean Secret Service reader. The released version opened a
``plain`` session, so the monitor's capture held the session's secret key; the reader
now negotiates ``dh-ietf1024-sha256-aes128-cbc-pkcs7`` as keyring and libsecret do.
The capture is then removed: it is a file (in the test's directory) that could hold
the secret if this test failed.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

from tests.tools.awshome import AwsHome
from tests.tools.processes import terminate

# A cache hit must not pay for cryptography's import (README, Performance and Security).
PROBE = """
import atexit, sys
atexit.register(lambda: sys.stderr.write('CRYPTO:%s\\n' % ('cryptography' in sys.modules)))
sys.argv = ['assumer', *sys.argv[1:]]
from assumer.cli.entry import main
main()
"""


def captured_while(aws_home: AwsHome, capture: Path, args: list[str]) -> tuple[subprocess.CompletedProcess[str], bytes]:
    """Run ``assumer ARGS`` under a bus monitor; what it printed, and every byte the bus carried meanwhile."""
    with capture.open("wb") as out:
        monitor = subprocess.Popen(["dbus-monitor", "--session", "--binary"], stdout=out,
                                   stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL, env=aws_home.process_env())
        try:
            time.sleep(0.5)  # the monitor is registered once it has said hello; give it the time
            result = aws_home.command([sys.executable, "-c", PROBE, *args])
            time.sleep(0.3)
        finally:
            terminate(monitor, timeout=5)
    try:
        return result, capture.read_bytes()
    finally:
        capture.unlink()


def test_a_cache_hit_reads_the_session_through_an_encrypted_session(aws_home: AwsHome, tmp_path: Path) -> None:
    cold = aws_home.run(["env", "r", "--shell", "json"])
    assert cold.returncode == 0, cold.stderr
    secret = json.loads(cold.stdout)["AWS_SECRET_ACCESS_KEY"]
    result, bus = captured_while(aws_home, tmp_path / "bus.bin", ["env", "r", "--shell", "json"])
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["AWS_SECRET_ACCESS_KEY"] == secret
    assert aws_home.proxy.count("AssumeRole") == 1  # the second was a hit
    assert b"GetSecret" in bus, "the monitor saw no GetSecret: it did not watch the read"
    assert secret.encode() not in bus, "the secret crossed the bus in the clear"
    assert b"dh-ietf1024-sha256-aes128-cbc-pkcs7" in bus
    assert "CRYPTO:False" in result.stderr
