"""``exec --server``: a command that outlives its session keeps working, through the local
credentials endpoint the SDKs already know (container credentials), against the emulator.

The recording proxy shortens each session's Expiration (STS refuses durations under
900 s), so a child running for seconds sees its session renewed.
"""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import time

import pytest

from tests.tools.awshome import AwsHome

LIFETIME = 20  # seconds each session lives, as the proxy rewrites it: renewed with 10 s left

# Uses boto3 the way a long job does: one session, calls until it has seen a new key (or gives up).
BOTO3_CHILD = """
import time, boto3
session = boto3.Session()
client = session.client("sts")
seen = []
deadline = time.time() + 40
while time.time() < deadline and len(seen) < 2:
    arn = client.get_caller_identity()["Arn"]
    key = session.get_credentials().get_frozen_credentials().access_key
    if key not in seen:
        seen.append(key)
        print("KEY", key, arn, flush=True)
    time.sleep(0.5)
print("SEEN", len(seen), flush=True)
"""

# What another local process would try: no token, a wrong one, the right one.
PROBE_CHILD = """
import json, os, urllib.request, urllib.error
url = os.environ["AWS_CONTAINER_CREDENTIALS_FULL_URI"]
def status(headers):
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=5) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as exc:
        return exc.code, json.load(exc)
right = status({"Authorization": os.environ["AWS_CONTAINER_AUTHORIZATION_TOKEN"]})
print(json.dumps({"none": status({})[0], "wrong": status({"Authorization": "x" * 43})[0],
                  "right": right[0], "fields": sorted(right[1]), "url": url,
                  "token_length": len(os.environ["AWS_CONTAINER_AUTHORIZATION_TOKEN"]),
                  "env": sorted(k for k in os.environ if k.startswith(("AWS_", "ASSUMER_")))}))
"""


def run_server(aws_home: AwsHome, *argv: str, profile: str = "r", **kwargs) -> subprocess.CompletedProcess[str]:
    return aws_home.run(["exec", "--server", profile, "--", *argv], timeout=90, **kwargs)


def test_a_boto3_job_sees_its_session_renewed(aws_home: AwsHome) -> None:
    aws_home.proxy.set_sts_expiry(LIFETIME)
    result = run_server(aws_home, sys.executable, "-c", BOTO3_CHILD)
    assert result.returncode == 0, result.stderr
    keys = [line.split() for line in result.stdout.splitlines() if line.startswith("KEY")]
    assert len(keys) == 2, result.stdout + result.stderr
    assert all(":assumed-role/R/" in arn for _, _, arn in keys)
    assert aws_home.proxy.count("AssumeRole") >= 2


def test_the_aws_cli_uses_the_endpoint(aws_home: AwsHome) -> None:
    result = run_server(aws_home, "aws", "sts", "get-caller-identity", "--output", "json")
    assert result.returncode == 0, result.stderr
    assert ":assumed-role/R/" in json.loads(result.stdout)["Arn"]


def test_only_the_token_opens_the_endpoint_and_the_child_holds_no_keys(aws_home: AwsHome) -> None:
    result = run_server(aws_home, sys.executable, "-c", PROBE_CHILD,
                        env_extra={"AWS_PROFILE": "u", "AWS_ACCESS_KEY_ID": "AKIAHANDEXPORTED0000",
                                   "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI": "/v2/creds"})
    assert result.returncode == 0, result.stderr
    seen = json.loads(result.stdout)
    assert (seen["none"], seen["wrong"], seen["right"]) == (401, 401, 200)
    assert seen["fields"] == ["AccessKeyId", "Expiration", "SecretAccessKey", "Token"]
    assert seen["url"].startswith("http://127.0.0.1:") and seen["token_length"] >= 43  # 32 random bytes
    assert seen["env"] == ["ASSUMER_PROFILE", "AWS_CONFIG_FILE", "AWS_CONTAINER_AUTHORIZATION_TOKEN",
                           "AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_DEFAULT_REGION", "AWS_EC2_METADATA_DISABLED",
                           "AWS_ENDPOINT_URL", "AWS_REGION", "AWS_SHARED_CREDENTIALS_FILE"]
    # Nothing is left listening once the command has ended.
    port = int(seen["url"].rsplit(":", 1)[1].strip("/"))
    with pytest.raises(ConnectionRefusedError), socket.create_connection(("127.0.0.1", port), timeout=2):
        pass


def test_default_keys_in_the_credentials_file_do_not_shadow_the_endpoint(aws_home: AwsHome) -> None:
    u = aws_home.world.u
    aws_home.add_credentials(f"[default]\naws_access_key_id = {u.access_key_id}\n"
                             f"aws_secret_access_key = {u.secret_access_key}\n")
    result = run_server(aws_home, "aws", "sts", "get-caller-identity", "--output", "json")
    assert result.returncode == 0, result.stderr
    assert ":assumed-role/R/" in json.loads(result.stdout)["Arn"]  # not user/U, as [default] would give
    assert "[default] keys would come before the credentials server" in result.stderr


def test_a_default_profile_that_supplies_credentials_in_the_config_is_refused(aws_home: AwsHome) -> None:
    aws_home.add_config("[default]\ncredential_process = /bin/false\n")
    result = run_server(aws_home, "true")
    assert result.returncode == 3
    assert "[default] profile supplies credentials (credential_process)" in result.stderr
    assert len(result.stderr.splitlines()) == 1


def test_a_failed_renewal_answers_an_error_not_a_stale_session(aws_home: AwsHome) -> None:
    aws_home.proxy.set_sts_expiry(LIFETIME)
    child = ("import time, boto3, botocore.exceptions\n"
             "client = boto3.client('sts')\n"
             "print('FIRST', client.get_caller_identity()['Arn'], flush=True)\n"
             f"time.sleep({LIFETIME + 2})\n"
             "try:\n    client.get_caller_identity(); print('SERVED', flush=True)\n"
             "except botocore.exceptions.BotoCoreError as exc:\n"
             "    print('REFUSED', type(exc).__name__, flush=True)\n")
    process = subprocess.Popen([aws_home.assumer, "exec", "--server", "r", "--", sys.executable, "-c", child],
                               env=aws_home.process_env(), cwd=aws_home.home, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, start_new_session=True)
    assert process.stdout is not None
    assert process.stdout.readline().startswith("FIRST")
    aws_home.proxy.fail("AssumeRole", status=403, code="AccessDenied", message="revoked", count=100)
    out, err = process.communicate(timeout=90)
    assert "REFUSED" in out and "SERVED" not in out, out + err
    assert "could not renew the session of profile 'r'" in err


# The command: Python, not sh, because a non-interactive shell cannot trap a signal that was
# ignored when it started, and SIGINT and SIGQUIT are ignored in jobs started in the background
# (as a CI runner may start the suite).
SIGNALLED_CHILD = """
import signal, sys, time
def got(signum, frame):
    print("got-" + signal.Signals(signum).name, flush=True)
    sys.exit(3)
signal.signal(getattr(signal, sys.argv[1]), got)
print("ready", flush=True)
time.sleep(30)
"""


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGQUIT])
def test_signals_reach_the_command_and_its_status_comes_back(aws_home: AwsHome, signum: int) -> None:
    name = signal.Signals(signum).name
    process = subprocess.Popen([aws_home.assumer, "exec", "--server", "r", "--", sys.executable, "-c",
                                SIGNALLED_CHILD, name], env=aws_home.process_env(), cwd=aws_home.home,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    assert process.stdout is not None
    assert process.stdout.readline() == "ready\n"
    process.send_signal(signum)
    try:
        out, err = process.communicate(timeout=30)
    finally:
        process.kill()
    assert out == f"got-{name}\n", err
    assert process.returncode == 3


@pytest.mark.parametrize("script, status", [("exit 7", 7), ("kill -KILL $$", 128 + 9), ("kill -TERM $$", 128 + 15)])
def test_the_commands_exit_status_passes_through(aws_home: AwsHome, script: str, status: int) -> None:
    started = time.monotonic()
    result = run_server(aws_home, "sh", "-c", script)
    assert result.returncode == status
    assert time.monotonic() - started < 20
