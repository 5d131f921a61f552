"""The lean reader against the real Secret Service of the suite (gnome-keyring on the
dbus session that tests/run.sh starts).

Most reads run in a fresh ``python -c`` process, as the CLI would: that is where the
reader makes its own decision (this pytest process has keyring loaded already).
Items are written only by keyring, since the reader never writes.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

SERVICE = "assumer-secretservice-test"  # not one of assumer's: nothing else here touches it
BUS = "org.freedesktop.secrets"
SECRETS = "/org/freedesktop/secrets"
# gnome-keyring's own interface for unlocking and creating without a prompt.
GNOME_INTERNAL = "org.gnome.keyring.InternalUnsupportedGuiltRiddenInterface"

READER = """
import json, logging, sys
if sys.argv[3:] == ["--debug"]:
    logging.basicConfig(level=logging.DEBUG)
from assumer.store.secretservice import Fallback, get_password
try:
    result = {"secret": get_password(sys.argv[1], sys.argv[2])}
except Fallback as exc:
    result = {"fallback": str(exc)}
print(json.dumps(result))
"""


@pytest.fixture(autouse=True)
def secret_service(tmp_path: Path) -> Iterator[None]:
    """Fail (not skip) without a session bus; remove this module's items afterwards."""
    if not os.environ.get("DBUS_SESSION_BUS_ADDRESS"):
        pytest.fail(
            "DBUS_SESSION_BUS_ADDRESS is unset: these tests need the dbus session with "
            "gnome-keyring that `bash tests/run.sh` starts",
            pytrace=False,
        )
    import keyring

    chosen = type(keyring.get_keyring())
    assert f"{chosen.__module__}.{chosen.__qualname__}" == "keyring.backends.SecretService.Keyring", (
        f"keyring chose {chosen}, not the Secret Service: the comparison would be meaningless"
    )
    yield
    delete_items({"service": SERVICE})


def delete_items(attributes: dict[str, str]) -> None:
    import secretstorage

    with secretstorage.dbus_init() as connection:
        for item in secretstorage.search_items(connection, attributes):
            item.delete()


def lean_read(
    username: str, *, env: dict[str, str] | None = None, cwd: Path | None = None, debug: bool = False
) -> dict:
    """get_password(SERVICE, username) in a fresh process: {"secret": ...} or {"fallback": why}.

    With ``debug`` the process logs at DEBUG level and its stderr is in "log".
    """
    done = subprocess.run(
        [sys.executable, "-c", READER, SERVICE, username, *(["--debug"] if debug else [])],
        env=os.environ if env is None else env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,  # a prompt or a hang must fail the test, not stall the suite
        check=True,
    )
    result = json.loads(done.stdout)
    if debug:
        result["log"] = done.stderr
    return result


# -- reading what keyring wrote --------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        "AKIAEXAMPLE/secret+session==",
        "päss—ワード ✓ 🔑",  # non-ASCII, multi-byte, outside the BMP
        "x" * 65536 + "end",  # far longer than any session (about 2 KiB of JSON)
        '{"AccessKeyId": "A", "SessionToken": "line1\\nline2"}\n',
        "",
    ],
    ids=["ascii", "non-ascii", "long", "json", "empty"],
)
def test_reads_what_keyring_wrote(value: str, tmp_path: Path) -> None:
    import keyring

    keyring.set_password(SERVICE, "user", value)
    assert lean_read("user", cwd=tmp_path) == {"secret": value}
    assert keyring.get_password(SERVICE, "user") == value


def test_missing_item_is_none_like_keyring(tmp_path: Path) -> None:
    import keyring

    keyring.set_password(SERVICE, "someone-else", "v")
    assert lean_read("absent", cwd=tmp_path) == {"secret": None}
    assert keyring.get_password(SERVICE, "absent") is None


def test_an_overwritten_item_reads_the_new_value(tmp_path: Path) -> None:
    import keyring

    keyring.set_password(SERVICE, "user", "old")
    keyring.set_password(SERVICE, "user", "new")
    assert lean_read("user", cwd=tmp_path) == {"secret": "new"}


def test_a_deleted_item_is_gone(tmp_path: Path) -> None:
    import keyring

    keyring.set_password(SERVICE, "user", "v")
    keyring.delete_password(SERVICE, "user")
    assert lean_read("user", cwd=tmp_path) == {"secret": None}


def test_several_matching_items_give_what_keyring_gives(tmp_path: Path) -> None:
    # keyring searches by service and username only and takes the first match; an
    # item with other extra attributes matches as well.
    import keyring
    import secretstorage

    keyring.set_password(SERVICE, "user", "from keyring")
    with secretstorage.dbus_init() as connection:
        collection = secretstorage.get_default_collection(connection)
        attributes = {"service": SERVICE, "username": "user", "application": "another tool"}
        collection.create_item("another", attributes, b"from another tool")
    assert lean_read("user", cwd=tmp_path) == {"secret": keyring.get_password(SERVICE, "user")}


def test_in_this_process_with_keyring_already_loaded() -> None:
    import keyring

    from assumer.store.secretservice import get_password

    keyring.set_password(SERVICE, "user", "in-process")
    assert get_password(SERVICE, "user") == "in-process"
    assert get_password(SERVICE, "absent") is None


def test_explicit_python_keyring_backend_is_honoured(tmp_path: Path) -> None:
    import keyring

    keyring.set_password(SERVICE, "user", "v")
    env = {**os.environ, "PYTHON_KEYRING_BACKEND": "keyring.backends.SecretService.Keyring"}
    assert lean_read("user", env=env, cwd=tmp_path) == {"secret": "v"}
    env["PYTHON_KEYRING_BACKEND"] = "keyring.backends.null.Keyring"
    assert "PYTHON_KEYRING_BACKEND" in lean_read("user", env=env, cwd=tmp_path)["fallback"]


# -- the reader's decision against keyring's own, in real processes ----------------------------

ORACLE = """
import json, sys
from assumer.store.secretservice import Fallback, get_password
try:
    lean = {"secret": get_password(sys.argv[1], sys.argv[2])}
except Fallback as exc:
    lean = {"fallback": str(exc)}
import keyring  # only now: the reader decided without it
chosen = type(keyring.get_keyring())
try:
    value = keyring.get_password(sys.argv[1], sys.argv[2])
except Exception as exc:  # the fail backend raises; report, do not crash
    value = f"error: {type(exc).__name__}"
print(json.dumps({"lean": lean, "keyring": f"{chosen.__module__}.{chosen.__qualname__}", "value": value}))
"""

PLUGIN = """
from keyring.backend import KeyringBackend

class Keyring(KeyringBackend):
    priority = {priority}

    def get_password(self, service, username):
        return "from the plugin"

    def set_password(self, service, username, password):
        raise NotImplementedError
"""


def install_plugin(site: Path, priority: float) -> None:
    """A real third-party backend, found by keyring through its entry point."""
    site.mkdir(exist_ok=True)
    (site / "fakebackend.py").write_text(PLUGIN.format(priority=priority))
    dist = site / "fakebackend-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: fakebackend\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text("[keyring.backends]\nfake = fakebackend\n")


SS = "keyring.backends.SecretService.Keyring"
CHAINER = "keyring.backends.chainer.ChainerBackend"
STORED = "from the Secret Service"


@pytest.mark.parametrize(
    ("plugin", "env_backend", "config", "keyring_uses", "keyring_reads"),
    [
        (None, None, None, SS, STORED),
        # Any second backend above priority 0 makes keyring chain them, highest first.
        (6, None, None, CHAINER, "from the plugin"),
        (0.5, None, None, CHAINER, STORED),
        (11, None, None, "fakebackend.Keyring", "from the plugin"),  # outranks the chainer
        (None, "keyring.backends.null.Keyring", None, "keyring.backends.null.Keyring", None),
        (
            None,
            None,
            "keyring.backends.fail.Keyring",
            "keyring.backends.fail.Keyring",
            "error: NoKeyringError",
        ),
        (6, None, SS, SS, STORED),
        (6, SS, None, SS, STORED),
    ],
    ids=["alone", "plugin-6", "plugin-0.5", "plugin-11", "env-null", "config-fail", "config-ss", "env-ss"],
)
def test_the_reader_answers_exactly_when_keyring_reads_the_secret_service(
    tmp_path: Path, plugin, env_backend, config, keyring_uses, keyring_reads
) -> None:
    import keyring

    keyring.set_password(SERVICE, "user", STORED)
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHON_KEYRING_BACKEND", "PYTHONPATH")}
    env["XDG_CONFIG_HOME"] = str(tmp_path / "config")
    if plugin is not None:
        install_plugin(tmp_path / "site", plugin)
        env["PYTHONPATH"] = str(tmp_path / "site")
    if env_backend is not None:
        env["PYTHON_KEYRING_BACKEND"] = env_backend
    if config is not None:
        (tmp_path / "config" / "python_keyring").mkdir(parents=True)
        (tmp_path / "config" / "python_keyring" / "keyringrc.cfg").write_text(
            f"[backend]\ndefault-keyring = {config}\n"
        )
    done = subprocess.run(
        [sys.executable, "-c", ORACLE, SERVICE, "user"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout)
    assert (seen["keyring"], seen["value"]) == (keyring_uses, keyring_reads)
    if keyring_uses == SS:
        assert seen["lean"] == {"secret": STORED}
    else:  # even where keyring would read the same value: the reader cannot know that
        assert "fallback" in seen["lean"]


def test_with_libsecrets_dependency_importable_hits_stand_and_misses_fall_back(tmp_path: Path) -> None:
    # A `gi` on the path may make keyring's libsecret backend (4.8) viable; keyring
    # would then chain it after the Secret Service (5), asking it only on a miss.
    import keyring

    keyring.set_password(SERVICE, "user", STORED)
    (tmp_path / "site" / "gi").mkdir(parents=True)
    (tmp_path / "site" / "gi" / "__init__.py").write_text("")
    env = {**os.environ, "PYTHONPATH": str(tmp_path / "site")}
    assert lean_read("user", env=env, cwd=tmp_path) == {"secret": STORED}
    assert "next backend" in lean_read("absent", env=env, cwd=tmp_path)["fallback"]


# -- handing over to keyring -----------------------------------------------------------------


def test_no_session_bus_address_falls_back(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "DBUS_SESSION_BUS_ADDRESS"}
    assert "DBUS_SESSION_BUS_ADDRESS" in lean_read("user", env=env, cwd=tmp_path)["fallback"]


def test_a_secret_that_is_not_utf8_falls_back_without_quoting_it(tmp_path: Path) -> None:
    import secretstorage

    with secretstorage.dbus_init() as connection:
        collection = secretstorage.get_default_collection(connection)
        attributes = {"service": SERVICE, "username": "binary", "application": "Python keyring library"}
        collection.create_item("binary", attributes, b"\xff\xfeTOPSECRET\xff")
    result = lean_read("binary", cwd=tmp_path, debug=True)
    assert "not UTF-8" in result["fallback"]
    for shown in (result["fallback"], result["log"]):
        assert "TOPSECRET" not in shown and "xff" not in shown and "0xfe" not in shown


@pytest.fixture
def locked_default_collection() -> Iterator[None]:
    """Point the "default" alias at a new collection holding an item, then lock it.

    The suite's own login collection is never locked: unlocking needs its password,
    which belongs to tests/run.sh. This collection has a password of its own, so the
    fixture can always unlock and delete it, and it restores the alias whatever happens.
    """
    import keyring
    import secretstorage
    from secretstorage.util import DBusAddressWrapper

    password = b"assumer-test-collection"
    with secretstorage.dbus_init() as connection:
        service = DBusAddressWrapper(SECRETS, "org.freedesktop.Secret.Service", connection)
        internal = DBusAddressWrapper(SECRETS, GNOME_INTERNAL, connection)
        (original,) = service.call("ReadAlias", "s", "default")
        _, session = service.call("OpenSession", "sv", "plain", ("s", ""))
        secret = (session, b"", password, "text/plain")
        label = {"org.freedesktop.Secret.Collection.Label": ("s", "assumer lean reader test")}
        (path,) = internal.call("CreateWithMasterPassword", "a{sv}(oayays)", label, secret)
        try:
            service.call("SetAlias", "so", "default", path)
            keyring.set_password(SERVICE, "user", "behind the lock")  # into the new collection
            service.call("Lock", "ao", [path])
            assert secretstorage.Collection(connection, path).is_locked()
            yield
        finally:
            service.call("SetAlias", "so", "default", original)
            internal.call("UnlockWithMasterPassword", "o(oayays)", path, secret)
            secretstorage.Collection(connection, path).delete()
        assert secretstorage.get_default_collection(connection).collection_path  # alias works again


def test_a_locked_collection_falls_back_at_once_without_prompting(
    locked_default_collection, tmp_path: Path
) -> None:
    started = time.monotonic()
    result = lean_read("user", cwd=tmp_path)
    assert "locked" in result["fallback"]
    assert time.monotonic() - started < 10  # a prompt would wait for a reply that never comes


# -- how much faster ----------------------------------------------------------------------------


def test_the_lean_read_returns_the_secret_without_importing_keyring(tmp_path: Path) -> None:
    """The reason the lean reader exists: a fresh process reads the secret keyring stored
    without importing keyring or its backends (their import is most of keyring's cost).

    Not a timed assertion (these machines are noisy): tests/bench measures by how much.
    """
    import keyring

    keyring.set_password(SERVICE, "probe", "v")
    code = (f"import sys; from assumer.store.secretservice import get_password; "
            f"assert get_password({SERVICE!r}, 'probe') == 'v'; "
            "print(' '.join(sorted(m for m in sys.modules if m.split('.')[0] in "
            "('keyring', 'secretstorage', 'cryptography', 'importlib_metadata'))))")
    result = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, check=True, timeout=60,
                            capture_output=True, text=True)
    assert result.stdout.strip() == ""


# -- many callers at once ------------------------------------------------------------------

CONCURRENT_READER = """
import json, sys
from assumer.store.secretservice import Fallback, open_reader
service, kind, rounds = sys.argv[1], sys.argv[2], int(sys.argv[3])
wrong, fallbacks = 0, []
for _ in range(rounds):
    try:
        reader = open_reader()
        try:
            if kind == "hit":
                wrong += reader.get_password(service, "shared") != "the shared secret"
            elif kind == "miss":
                wrong += reader.get_password(service, "absent") is not None
            # "declined": a caller that opened the reader, then found it had nothing to read
        finally:
            reader.close()
    except Fallback as exc:
        fallbacks.append(str(exc))
print(json.dumps({"wrong": wrong, "fallbacks": sorted(set(fallbacks)), "count": len(fallbacks)}))
"""


def secret_service_pid() -> int:
    """The process that owns org.freedesktop.secrets on the session bus."""
    from jeepney import DBusAddress, new_method_call
    from jeepney.io.blocking import open_dbus_connection

    bus = DBusAddress("/org/freedesktop/DBus", "org.freedesktop.DBus", "org.freedesktop.DBus")
    with open_dbus_connection("SESSION") as connection:
        reply = connection.send_and_get_reply(new_method_call(bus, "GetConnectionUnixProcessID", "s", (BUS,)))
    (pid,) = reply.body
    return int(pid)


def test_many_callers_at_once_leave_the_secret_service_running_and_read_right() -> None:
    """Hits, misses and readers closed unused, four processes at once, against the real gnome-keyring.

    Each new caller whose first calls gnome-keyring 42 handles before it has registered the
    caller (its registration is an idle callback) used to be able to send OpenSession among
    them, which makes the daemon abort; and calls addressed to /aliases/default could reach
    a garbled path under load. The reader's order (tests/unit/test_secretservice_bus.py) rules
    both out; this shows the result where it matters: the same daemon answers afterwards, every
    hit is the secret, every miss None, and nothing falls back. (With the old order this test
    failed in 9 of 10 runs on the machine it was written on: UnknownMethod fallbacks, and in
    some runs the daemon's abort. A pass is evidence; the unit tests pin the order itself.)
    """
    import keyring

    keyring.set_password(SERVICE, "shared", "the shared secret")
    before = secret_service_pid()
    kinds = ["hit", "miss", "declined", "hit"]
    processes = [
        subprocess.Popen([sys.executable, "-c", CONCURRENT_READER, SERVICE, kind, "150"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for kind in kinds
    ]
    results = []
    for process in processes:
        out, err = process.communicate(timeout=120)
        assert process.returncode == 0, err
        results.append(json.loads(out))
    assert secret_service_pid() == before, "the Secret Service was restarted: gnome-keyring died"
    assert [result["wrong"] for result in results] == [0, 0, 0, 0]
    assert [result["fallbacks"] for result in results] == [[], [], [], []], results
    assert keyring.get_password(SERVICE, "shared") == "the shared secret"
