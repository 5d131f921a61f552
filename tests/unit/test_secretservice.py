"""When the lean Secret Service reader answers and when it hands over to keyring.

No D-Bus here: every case is decided (or fails to connect) before a bus is needed.
Each test describes a world to the reader explicitly: an environment, a platform, a
sys.path of temporary site directories, the loaded modules and the import hooks, so
the outcome does not depend on the machine or on what other tests imported.
"""

from __future__ import annotations

import re
import sys
import types
from pathlib import Path

import pytest

from assumer.store.secretservice import SECRET_SERVICE_BACKEND, Fallback, ensure_secret_service, get_password

PATH_FINDER = [f for f in sys.meta_path if getattr(f, "__name__", "") == "PathFinder"]


def make_site(root: Path, *entries: str, entry_points: dict[str, str] | None = None) -> Path:
    """A site directory holding ``entries``: ``*.dist-info`` become dirs, other names dirs or files."""
    root.mkdir(parents=True, exist_ok=True)
    for name in entries:
        path = root / name
        if name.endswith((".py", ".so")):
            path.write_text("")
        else:
            path.mkdir()
    for dist, text in (entry_points or {}).items():
        (root / dist / "entry_points.txt").write_text(text)
    return root


# keyrings.alt as installed: its backends are entry points of keyring's group.
ALT = {"keyrings.alt-5.0.2.dist-info": "[keyring.backends]\nfile = keyrings.alt.file\n"}
STANDARD = ("keyring-25.7.0.dist-info", "keyring", "SecretStorage-3.5.0.dist-info", "secretstorage")


@pytest.fixture
def site(tmp_path: Path) -> Path:
    """A site-packages as keyring installs itself: keyring 25 and SecretStorage 3.5."""
    return make_site(
        tmp_path / "site",
        *STANDARD,
        entry_points={
            "keyring-25.7.0.dist-info": "[keyring.backends]\nSecretService = keyring.backends.SecretService\n"
        },
    )


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """An environment with a HOME that has no keyring config."""
    home = tmp_path / "home"
    home.mkdir()
    return {"HOME": str(home), "PATH": "/usr/bin"}


def decide(
    env: dict[str, str], *path: Path | str, platform: str = "linux", modules=None, meta_path=None
) -> bool:
    return ensure_secret_service(
        environ=env,
        platform=platform,
        search_path=[str(p) for p in path],
        modules={} if modules is None else modules,
        meta_path=PATH_FINDER if meta_path is None else meta_path,
    )


def fallback_reason(env: dict[str, str], *path: Path | str, **kwargs) -> str:
    with pytest.raises(Fallback) as caught:
        decide(env, *path, **kwargs)
    return str(caught.value)


def write_config(env: dict[str, str], text: str, *, root: Path | None = None) -> Path:
    base = root if root is not None else Path(env["HOME"]) / ".config"
    path = base / "python_keyring" / "keyringrc.cfg"
    path.parent.mkdir(parents=True)
    path.write_text(text)
    return path


# -- the plain case -----------------------------------------------------------------------


def test_keyring_alone_on_linux_is_answered_and_a_miss_is_final(env, site):
    assert decide(env, site) is True


def test_missing_and_empty_path_entries_are_ignored(env, site, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # "" on sys.path is the current directory
    assert decide(env, tmp_path / "nonexistent", "", site) is True


# -- platform and environment -------------------------------------------------------------


@pytest.mark.parametrize("platform", ["darwin", "win32", "freebsd14", "cygwin"])
def test_not_linux_falls_back(env, site, platform):
    assert "not Linux" in fallback_reason(env, site, platform=platform)


@pytest.mark.parametrize(
    "name", ["KEYRING_PROPERTY_PREFERRED_COLLECTION", "KEYRING_PROPERTY_SCHEME", "X_KEYRING_PROPERTY_Y"]
)
def test_keyring_property_variables_fall_back(env, site, name):
    # keyring copies them onto the backend; they change the collection or the attributes.
    env[name] = "KeePassXC"
    assert name in fallback_reason(env, site)


@pytest.mark.parametrize(
    "value",
    [
        "keyrings.alt.file.PlaintextKeyring",
        "keyring.backends.null.Keyring",
        "keyring.backends.chainer.ChainerBackend",
        " keyring.backends.SecretService.Keyring",  # keyring does not strip it: its import fails
        "",
    ],
)
def test_python_keyring_backend_naming_anything_else_falls_back(env, site, value):
    env["PYTHON_KEYRING_BACKEND"] = value
    assert "PYTHON_KEYRING_BACKEND" in fallback_reason(env, site)


def test_python_keyring_backend_naming_secret_service_wins_over_config_and_plugins(env, tmp_path, site):
    env["PYTHON_KEYRING_BACKEND"] = SECRET_SERVICE_BACKEND
    write_config(env, "[backend]\ndefault-keyring = keyrings.alt.file.PlaintextKeyring\n")
    plugins = make_site(tmp_path / "plugins", "keyrings.alt-5.0.2.dist-info", entry_points=ALT)
    assert decide(env, site, plugins) is True


def test_no_session_bus_address_falls_back_before_any_dbus(env, site):
    with pytest.raises(Fallback, match="DBUS_SESSION_BUS_ADDRESS"):
        get_password(
            "assumer",
            "x",
            environ=env,
            platform="linux",
            search_path=[str(site)],
            modules={},
            meta_path=PATH_FINDER,
        )


def test_unreachable_session_bus_falls_back(env, site, tmp_path):
    env["DBUS_SESSION_BUS_ADDRESS"] = f"unix:path={tmp_path}/no-bus-here"
    with pytest.raises(Fallback, match="FileNotFoundError"):
        get_password(
            "assumer",
            "x",
            environ=env,
            platform="linux",
            search_path=[str(site)],
            modules={},
            meta_path=PATH_FINDER,
        )


def test_malformed_session_bus_address_falls_back(env, site):
    env["DBUS_SESSION_BUS_ADDRESS"] = "not an address"
    with pytest.raises(Fallback):
        get_password(
            "assumer",
            "x",
            environ=env,
            platform="linux",
            search_path=[str(site)],
            modules={},
            meta_path=PATH_FINDER,
        )


# -- keyring's config file ----------------------------------------------------------------


def test_config_naming_another_backend_falls_back(env, site):
    write_config(env, "[backend]\ndefault-keyring=keyring.backends.null.Keyring\n")
    assert "keyring.backends.null.Keyring" in fallback_reason(env, site)


def test_config_naming_secret_service_is_answered_even_with_plugins(env, site, tmp_path):
    # keyring strips the value and reads option names case-insensitively.
    write_config(env, "[backend]\nDefault-Keyring =  keyring.backends.SecretService.Keyring  \n")
    plugins = make_site(tmp_path / "plugins", "keyrings.alt-5.0.2.dist-info", entry_points=ALT)
    assert decide(env, site, plugins) is True


def test_config_in_xdg_config_home_is_the_one_read(env, site, tmp_path):
    write_config(env, "[backend]\ndefault-keyring=keyring.backends.SecretService.Keyring\n")  # ignored
    env["XDG_CONFIG_HOME"] = str(tmp_path / "xdg")
    write_config(env, "[backend]\ndefault-keyring=keyring.backends.null.Keyring\n", root=tmp_path / "xdg")
    assert "null" in fallback_reason(env, site)


def test_empty_xdg_config_home_means_home_dot_config(env, site):
    env["XDG_CONFIG_HOME"] = ""
    write_config(env, "[backend]\ndefault-keyring=keyring.backends.null.Keyring\n")
    assert "null" in fallback_reason(env, site)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "[other]\ndefault-keyring=keyring.backends.null.Keyring\n",
        "[backend]\n",  # keyring warns and goes on to detection
        "# just a comment\n",
    ],
)
def test_config_without_a_choice_goes_on_to_detection(env, site, tmp_path, text):
    write_config(env, text)
    assert decide(env, site) is True
    plugins = make_site(tmp_path / "plugins", "keyrings.alt-5.0.2.dist-info", entry_points=ALT)
    assert "keyrings.alt" in fallback_reason(env, site, plugins)


def test_config_with_keyring_path_falls_back(env, site):
    # keyring prepends it to sys.path, where other backends may live.
    write_config(
        env, "[backend]\ndefault-keyring=keyring.backends.SecretService.Keyring\nkeyring-path=/opt/kr\n"
    )
    assert "keyring-path" in fallback_reason(env, site)


@pytest.mark.parametrize(
    "text",
    [
        "default-keyring=keyring.backends.SecretService.Keyring\n",  # no section header
        "[backend]\n[backend]\n",  # duplicate section
        "[backend]\ndefault-keyring=a\ndefault-keyring=b\n",  # duplicate option
    ],
)
def test_malformed_config_falls_back(env, site, text):
    # keyring itself raises on these; it should do so with its own message.
    write_config(env, text)
    assert "cannot be parsed" in fallback_reason(env, site)


def test_config_that_is_not_utf8_falls_back(env, site):
    path = write_config(env, "")
    path.write_bytes(b"[backend]\ndefault-keyring=\xff\n")
    assert "cannot be parsed" in fallback_reason(env, site)


def test_config_path_that_cannot_be_read_counts_as_empty(env, site):
    # configparser (in keyring too) skips a file it cannot open, here a directory.
    (Path(env["HOME"]) / ".config" / "python_keyring" / "keyringrc.cfg").mkdir(parents=True)
    assert decide(env, site) is True


# -- other backends by priority -----------------------------------------------------------


def test_a_plugin_declaring_keyring_backends_falls_back(env, site, tmp_path):
    # Even a low-priority plugin makes keyring's chainer (priority 10) the choice.
    plugins = make_site(tmp_path / "plugins", "keyrings.alt-5.0.2.dist-info", entry_points=ALT)
    assert "keyrings.alt-5.0.2.dist-info" in fallback_reason(env, site, plugins)


def test_plugin_group_header_with_spaces_or_in_egg_info_is_seen(env, site, tmp_path):
    plugins = make_site(
        tmp_path / "plugins",
        "vendor_keyring.egg-info",
        entry_points={
            "vendor_keyring.egg-info": "[console_scripts]\nx = y:z\n\n[ keyring.backends ]\nv = vendor\n"
        },
    )
    assert "vendor_keyring.egg-info" in fallback_reason(env, site, plugins)


def test_other_entry_points_do_not_matter(env, site, tmp_path):
    others = make_site(
        tmp_path / "others",
        "click-8.1.7.dist-info",
        "boto3-1.34.0.dist-info",
        "pytest-8.0.0.dist-info",
        "PyGObject-3.42.2.egg-info",
        entry_points={"pytest-8.0.0.dist-info": "[console_scripts]\npytest = pytest:console_main\n"},
    )
    (others / "six-1.16.0.egg-info").write_text("Metadata-Version: 1.0\n")  # egg-info as a file
    assert decide(env, site, others) is True


def test_a_backend_class_defined_in_this_process_falls_back(env, site):
    class Fake:
        __module__ = "tests.fakes"
        __qualname__ = "MemoryKeyring"

    backend = types.SimpleNamespace(KeyringBackend=types.SimpleNamespace(_classes={Fake}))
    assert "tests.fakes.MemoryKeyring" in fallback_reason(env, site, modules={"keyring.backend": backend})


def test_builtin_backend_classes_in_this_process_do_not_matter(env, site):
    classes = set()
    for module in ("keyring.backends.SecretService", "keyring.backends.fail", "keyring.backends.chainer"):
        classes.add(type("Keyring", (), {"__module__": module}))
    backend = types.SimpleNamespace(KeyringBackend=types.SimpleNamespace(_classes=classes))
    assert decide(env, site, modules={"keyring.backend": backend}) is True


@pytest.mark.parametrize("entry", ["dbus", "dbus.py", "gi", "gi.cpython-311-x86_64-linux-gnu.so"])
def test_kwallet_or_libsecret_dependencies_make_a_miss_not_final(env, site, tmp_path, entry):
    # KWallet (4.9) or libsecret (4.8) may be viable: the chainer asks them after
    # SecretService (5), so its hits stand but its misses are not keyring's answer.
    system = make_site(tmp_path / "system", entry)
    assert decide(env, site, system) is False


def test_similar_names_are_not_dbus(env, site, tmp_path):
    system = make_site(
        tmp_path / "system",
        "_dbus_bindings.cpython-311-x86_64-linux-gnu.so",
        "dbus_python-1.3.2.egg-info",
        "gitdb",
    )
    assert decide(env, site, system) is True


def test_dbus_under_kde_falls_back(env, site, tmp_path):
    # KWallet's priority is 5.1 under KDE: above SecretService's 5.
    env["XDG_CURRENT_DESKTOP"] = "X-Generic:KDE"
    assert "KDE" in fallback_reason(env, site, make_site(tmp_path / "system", "dbus"))


# -- keyring and SecretStorage themselves ---------------------------------------------------


@pytest.mark.parametrize(
    "entries",
    [
        ("SecretStorage-3.5.0.dist-info",),  # no keyring
        ("keyring-25.7.0.dist-info",),  # no SecretStorage: keyring's backend is not viable
        ("keyring-24.3.1.dist-info", "SecretStorage-3.5.0.dist-info"),  # older than mirrored
        ("keyring-26.0.0.dist-info", "SecretStorage-3.5.0.dist-info"),  # newer than mirrored
        ("keyring.egg-info", "SecretStorage-3.5.0.dist-info"),  # version unknown
        ("keyring-25.7.0.dist-info", "SecretStorage-3.1.2.dist-info"),  # keyring refuses < 3.2
    ],
)
def test_unexpected_keyring_or_secretstorage_falls_back(env, tmp_path, entries):
    # keyring would fail, or might not behave as the reader mirrors.
    assert re.search(r"distributions|version", fallback_reason(env, make_site(tmp_path / "s", *entries)))


def test_two_keyrings_on_the_path_fall_back(env, site, tmp_path):
    user_site = make_site(tmp_path / "user", "keyring-25.0.0.dist-info")
    assert "2 keyring distributions" in fallback_reason(env, user_site, site)


def test_supported_versions_and_name_spellings_are_answered(env, tmp_path):
    site = make_site(tmp_path / "s", "keyring-25.0.0.egg-info", "secretstorage-3.3.3-py3.11.egg-info")
    assert decide(env, site) is True


# -- what the scan cannot see --------------------------------------------------------------


def test_a_zip_on_the_path_falls_back(env, site, tmp_path):
    archive = tmp_path / "bundle.zip"
    archive.write_bytes(b"PK\x05\x06" + bytes(18))
    assert "cannot list" in fallback_reason(env, site, archive)


def test_an_egg_on_the_path_falls_back(env, site, tmp_path):
    egg = make_site(tmp_path / "old-1.0-py3.11.egg", "EGG-INFO")
    assert "egg" in fallback_reason(env, site, egg)


def test_an_import_hook_that_finds_distributions_falls_back(env, site):
    class Hook:
        def find_distributions(self, context=None):
            return iter(())

    assert "import hook" in fallback_reason(env, site, meta_path=[*PATH_FINDER, Hook()])


def test_import_hooks_without_distributions_do_not_matter(env, site):
    class Hook:
        def find_spec(self, name, path=None, target=None):
            return None

    assert decide(env, site, meta_path=[Hook(), *PATH_FINDER]) is True


# -- keyring already loaded in this process --------------------------------------------------


def fake_core(backend: object) -> dict[str, object]:
    return {"keyring.core": types.SimpleNamespace(_keyring_backend=backend)}


def secret_service_instance(**properties: str) -> object:
    kind = type("Keyring", (), {"__module__": "keyring.backends.SecretService"})
    instance = kind()
    vars(instance).update(properties)
    return instance


def test_keyring_here_settled_on_secret_service_is_answered_whatever_else_is_installed(env, site, tmp_path):
    plugins = make_site(tmp_path / "plugins", "keyrings.alt-5.0.2.dist-info", entry_points=ALT)
    env["PYTHON_KEYRING_BACKEND"] = "keyrings.alt.file.PlaintextKeyring"  # read before set_keyring
    assert decide(env, site, plugins, modules=fake_core(secret_service_instance())) is True


def test_keyring_here_with_another_backend_or_properties_falls_back(env, site):
    other = type("MemoryKeyring", (), {"__module__": "tests.fakes"})()
    assert "another backend" in fallback_reason(env, site, modules=fake_core(other))
    tuned = secret_service_instance(preferred_collection="/org/freedesktop/secrets/collection/x")
    assert "another backend" in fallback_reason(env, site, modules=fake_core(tuned))


def test_the_real_process_defaults_are_used_when_nothing_is_passed(monkeypatch):
    # With no keyword arguments the reader looks at this process; here it must not
    # reach D-Bus, so take the bus away: whatever it decides, it falls back.
    monkeypatch.delenv("DBUS_SESSION_BUS_ADDRESS", raising=False)
    with pytest.raises(Fallback):
        get_password("assumer", "x")
