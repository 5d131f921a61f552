"""A lean, read-only path to the Secret Service for keyring's own entries.

``keyring.get_password`` costs about 0.35 s of start-up here: backend detection
imports every backend, scans every installed distribution's entry points and
pulls in ``urllib.request`` through ``jaraco.context``. The lookup itself is a
few D-Bus calls. :func:`get_password` makes those calls with ``jeepney``'s
message code (already installed: secretstorage, and so keyring, depends on it)
and answers only when it is certain that keyring would have read the same item
from the same place: the default collection of the Secret Service, found by
the attributes keyring's SecretService backend searches with. In every other
case it raises :class:`Fallback` and the caller asks keyring itself.

It never writes: storing and deleting stay with keyring, so the items are
always exactly the ones keyring creates.

The rules mirror keyring 25 (``keyring/core.py``, ``keyring/backend.py``,
``keyring/util/platform_.py``, ``keyring/backends/SecretService.py`` and
``chainer.py``, unchanged in what matters here from 25.0 to 25.7); any other
keyring is "unexpected" and falls back until someone re-reads its source.
"""

from __future__ import annotations

import os
import sys
import time

from assumer.store import dh

TYPE_CHECKING = False
if TYPE_CHECKING:  # for annotations, which stay unevaluated: nothing to import at run time
    import logging
    from collections.abc import Callable, Iterable, Mapping, Sequence
    from typing import Any

    # jeepney has no type information (ignore_missing_imports in pyproject.toml): these are Any.
    from jeepney import Message

__all__ = ["SECRET_SERVICE_BACKEND", "Fallback", "Reader", "ensure_secret_service", "get_password", "open_reader"]

#: The fully-qualified name keyring uses for its Secret Service backend.
SECRET_SERVICE_BACKEND = "keyring.backends.SecretService.Keyring"  # noqa: S105 - a class name, not a secret

# keyring majors whose detection and SecretService lookup this module mirrors.
# (24 differs: it refuses to start while a keyringrc.cfg is left in the old data
# directory only.)
_KEYRING_MAJORS = range(25, 26)
# keyring's SecretService backend refuses SecretStorage older than this.
_MIN_SECRETSTORAGE = (3, 2)
# Seconds to wait for each D-Bus reply before handing over to keyring. keyring
# waits without limit, and a provider may hold a reply while it asks the user
# (KeePassXC can confirm each read): a short wait would hand over to keyring, which
# would ask again. The bus itself answers NoReply after 25 s, normally first.
_CALL_TIMEOUT = 30.0
# Seconds to connect to the bus and be authenticated: jeepney's own limit.
_AUTH_TIMEOUT = 1.0

# The encrypted transfer keyring (SecretStorage) and libsecret negotiate: Diffie-Hellman in
# RFC 2409's second Oakley group, HKDF-SHA256 to an AES-128 key, AES-CBC with PKCS#7 padding.
# The group and its arithmetic: assumer.store.dh.
_ALGORITHM = "dh-ietf1024-sha256-aes128-cbc-pkcs7"

_BUS_NAME = "org.freedesktop.secrets"
_SERVICE_PATH = "/org/freedesktop/secrets"
_IFACE = "org.freedesktop.Secret."

# The modules that define keyring's built-in backends. Any other class in
# keyring's backend registry came from a plugin or from the application.
_BUILTIN_BACKEND_MODULES = frozenset(
    "keyring.backends." + name
    for name in ("SecretService", "kwallet", "libsecret", "Windows", "macOS", "chainer", "fail", "null")
)


class Fallback(Exception):
    """The lean path cannot answer for certain; use keyring itself."""


def get_password(
    service: str,
    username: str,
    *,
    environ: Mapping[str, str] | None = None,
    platform: str | None = None,
    search_path: Iterable[str] | None = None,
    modules: Mapping[str, object] | None = None,
    meta_path: Sequence[object] | None = None,
) -> str | None:
    """Read what ``keyring.get_password(service, username)`` would return, without importing keyring.

    Returns the secret, or None when keyring would return None (no such item).
    Raises :class:`Fallback` whenever it is not certain keyring would read the
    Secret Service default collection the same way, and on any failure at all
    (that is the contract: the caller then runs keyring, which reports or
    recovers in its own way, e.g. by prompting to unlock).

    The keyword arguments exist for tests; they default to this process's
    ``os.environ``, ``sys.platform``, ``sys.path``, ``sys.modules`` and
    ``sys.meta_path``.
    """
    with open_reader(environ=environ, platform=platform, search_path=search_path, modules=modules,
                     meta_path=meta_path) as reader:
        return reader.get_password(service, username)


def open_reader(
    *,
    environ: Mapping[str, str] | None = None,
    platform: str | None = None,
    search_path: Iterable[str] | None = None,
    modules: Mapping[str, object] | None = None,
    meta_path: Sequence[object] | None = None,
) -> Reader:
    """A :class:`Reader` for one :meth:`Reader.get_password`, its encrypted session already asked for.

    For a caller that has work to do before it knows which entry to read (a
    cache hit computes its key): the Secret Service agrees the session's key
    (a Diffie-Hellman exchange, a few milliseconds) meanwhile. Raises
    :class:`Fallback` as :func:`get_password` does; the arguments are its own.
    """
    env = os.environ if environ is None else environ
    with _AnyFailureFallsBack():
        miss_is_final = ensure_secret_service(
            environ=env, platform=platform, search_path=search_path, modules=modules, meta_path=meta_path
        )
        address = env.get("DBUS_SESSION_BUS_ADDRESS")
        if not address:
            # secretstorage refuses to start without it, so keyring's Secret
            # Service is not viable and keyring would pick something else.
            raise Fallback("DBUS_SESSION_BUS_ADDRESS is not set")
        return Reader(address, miss_is_final)


class _AnyFailureFallsBack:
    """Turns any error in its block into :class:`Fallback`; KeyboardInterrupt and the like pass."""

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, _tb: object) -> None:
        if error is None or isinstance(error, Fallback) or not isinstance(error, Exception):
            return
        # Documented contract: anything unexpected means "ask keyring". The
        # original error stays visible under --debug. No secret can be in it:
        # decoding, the only step that touches the secret, is handled apart.
        _log().debug("lean Secret Service read failed; falling back to keyring", exc_info=error)
        raise Fallback(f"lean Secret Service read failed: {type(error).__name__}") from error


def ensure_secret_service(
    *,
    environ: Mapping[str, str] | None = None,
    platform: str | None = None,
    search_path: Iterable[str] | None = None,
    modules: Mapping[str, object] | None = None,
    meta_path: Sequence[object] | None = None,
) -> bool:
    """Raise :class:`Fallback` unless keyring would ask its SecretService backend first.

    Mirrors keyring's order: a backend already chosen in this process, then
    ``PYTHON_KEYRING_BACKEND``, then ``keyringrc.cfg``, then the highest
    priority among the viable backends. Returns True when SecretService is
    keyring's only store (its "no such item" is keyring's answer), False when
    keyring's ChainerBackend would put it first but try lower-priority
    built-in backends after a miss (its hits are still keyring's answer).
    Parameters as for :func:`get_password`.
    """
    environ = os.environ if environ is None else environ
    platform = sys.platform if platform is None else platform
    modules = sys.modules if modules is None else modules
    if not platform.startswith("linux"):
        # keyring's config root and backend set differ elsewhere; not worth mirroring.
        raise Fallback(f"platform {platform!r} is not Linux")
    # KeyringBackend.__init__ copies every KEYRING_PROPERTY_<NAME> variable
    # (matched anywhere in the name) onto the backend: preferred_collection or
    # scheme would change where and how it searches.
    for key in environ:
        if "KEYRING_PROPERTY_" in key:
            raise Fallback(f"{key} is set")
    installed = _scan_installation(
        sys.path if search_path is None else search_path,
        sys.meta_path if meta_path is None else meta_path,
    )
    if _in_process_choice(modules) == "secretservice":
        # keyring is loaded here and has settled on a plain SecretService
        # backend; env, config and priorities no longer matter to it.
        return True
    requested = environ.get("PYTHON_KEYRING_BACKEND")
    if requested is not None:
        # keyring loads exactly this name (no stripping) and stops looking.
        if requested != SECRET_SERVICE_BACKEND:
            raise Fallback(f"PYTHON_KEYRING_BACKEND is {requested!r}")
        return True
    configured = _configured_backend(_config_path(environ))
    if configured is not None:
        if configured != SECRET_SERVICE_BACKEND:
            raise Fallback(f"keyringrc.cfg names {configured!r}")
        return True
    return _detected(installed, environ, modules)


def _detected(installed: _Installation, environ: Mapping[str, str], modules: Mapping[str, object]) -> bool:
    """keyring's detection: ``max(viable backends, key=priority)``.

    On Linux the built-ins are SecretService (5), KWallet (4.9, or 5.1 when
    XDG_CURRENT_DESKTOP includes KDE; needs the ``dbus`` module), libsecret
    (4.8; needs ``gi``), fail (0) and null (-1); Windows and macOS are not
    viable. The chainer takes priority 10 as soon as two viable backends have
    a priority above 0, and then asks them in priority order. A third-party
    backend's priority is unknown without importing it, so any falls back.
    """
    if installed.plugin:
        raise Fallback(installed.plugin)
    _check_registered_backends(modules)
    if installed.has_dbus and "KDE" in environ.get("XDG_CURRENT_DESKTOP", "").split(":"):
        raise Fallback("dbus is importable under KDE: KWallet (5.1) may outrank SecretService (5)")
    # dbus or gi present: KWallet or libsecret may be viable, which makes the
    # chainer run them after SecretService.
    return not (installed.has_dbus or installed.has_gi)


# --- what keyring in this process has already decided -----------------------------


def _in_process_choice(modules: Mapping[str, object]) -> str | None:
    """Return "secretservice" if keyring, loaded here, already uses plain SecretService.

    Raises Fallback if it has settled on anything else (a test fake set with
    ``keyring.set_keyring``, a chainer, properties on the instance). Returns
    None when keyring is not loaded or has not chosen yet.
    """
    core = modules.get("keyring.core")
    chosen = getattr(core, "_keyring_backend", None)
    if chosen is None:
        return None
    kind = type(chosen)
    # vars(): properties set on the instance (preferred_collection, scheme).
    if f"{kind.__module__}.{kind.__qualname__}" != SECRET_SERVICE_BACKEND or vars(chosen):
        raise Fallback("keyring in this process uses another backend or backend properties")
    return "secretservice"


def _check_registered_backends(modules: Mapping[str, object]) -> None:
    """Fallback if backend classes other than keyring's own are defined in this process.

    keyring's detection considers every concrete KeyringBackend subclass that
    exists in the process (its metaclass registers them on definition), not
    only those found through entry points.
    """
    backend = modules.get("keyring.backend")
    base = getattr(backend, "KeyringBackend", None)
    for cls in getattr(base, "_classes", ()):
        if cls.__module__ not in _BUILTIN_BACKEND_MODULES:
            raise Fallback(f"keyring backend {cls.__module__}.{cls.__qualname__} is defined here")


# --- keyringrc.cfg --------------------------------------------------------------------


def _config_path(environ: Mapping[str, str]) -> str:
    """keyring's ``platform_.config_root() / 'keyringrc.cfg'`` on Linux."""
    # `or`, not a default: keyring treats an empty XDG_CONFIG_HOME as unset.
    root = environ.get("XDG_CONFIG_HOME") or os.path.join(_home(environ), ".config")
    return os.path.join(root, "python_keyring", "keyringrc.cfg")


def _home(environ: Mapping[str, str]) -> str:
    # pathlib.Path.home() is os.path.expanduser("~"): HOME, else the password database.
    home = environ.get("HOME")
    if home:
        return home
    import pwd  # only when HOME is unset, which is rare

    return pwd.getpwuid(os.getuid()).pw_dir


def _configured_backend(path: str) -> str | None:
    """The backend keyringrc.cfg at ``path`` makes keyring load, or None if it chooses none.

    Reads the file the way ``keyring.core.load_config`` does: a
    RawConfigParser, ``[backend] default-keyring`` stripped. A missing section
    or option makes keyring go on to detection (None here). A ``keyring-path``
    is prepended to sys.path, which can change which backends exist: that, a
    malformed file or an unreadable one falls back.
    """
    if not os.path.exists(path):  # the common case: one stat, no parser import
        return None
    import configparser

    config = configparser.RawConfigParser()
    try:
        # configparser.read skips a file it cannot open; keyring then proceeds as
        # with an empty file, and so do we.
        config.read(path, encoding="utf-8")
    except (configparser.Error, UnicodeDecodeError) as exc:
        # keyring would raise here: let it, with its own message.
        raise Fallback(f"{path} cannot be parsed: {type(exc).__name__}") from exc
    if config.has_option("backend", "keyring-path"):
        raise Fallback(f"{path} sets keyring-path")
    if not config.has_option("backend", "default-keyring"):
        return None
    return config.get("backend", "default-keyring").strip()


# --- what is installed ----------------------------------------------------------------


class _Installation:
    """What a scan of sys.path found that bears on keyring's choice."""

    def __init__(self) -> None:
        self.plugin: str | None = None  # a distribution that declares keyring backends
        self.has_dbus = False  # KWallet's dependency is importable
        self.has_gi = False  # libsecret's dependency is importable


def _scan_installation(search_path: Iterable[str], meta_path: Sequence[object]) -> _Installation:
    """Check the distributions on ``search_path`` without importlib.metadata.

    keyring finds backends through the ``keyring.backends`` entry-point group
    (its built-ins are registered there too) with importlib.metadata, which
    lists every directory on sys.path and reads every distribution's
    metadata, after costing tens of milliseconds to import. This is the same
    walk cut down to what decides the answer: one listdir per sys.path entry
    and one open per ``*.dist-info``/``*.egg-info`` directory, about 1 ms for
    100 distributions. Remembering the verdict between runs would save about
    0.6 ms of that: checking it is still true takes a stat of every directory
    listed, every distribution's directory and every entry_points.txt (an
    in-place edit, as setuptools' egg_info makes, changes no directory's
    times), and a change it missed would make this reader answer for a store
    keyring no longer uses; so it scans every time. It is conservative: a hit
    means "maybe", never "no".

    Raises Fallback when keyring or SecretStorage is absent, duplicated or of
    an unexpected version (keyring would behave differently or fail).
    Records what could join SecretService in detection:

    * ``plugin``: another distribution declares ``keyring.backends`` entry
      points (keyrings.alt, a vendor backend). Its priority is unknown; even a
      low one makes keyring's ChainerBackend viable at priority 10, which then
      also searches it when the Secret Service has no such item;
    * ``has_dbus`` / ``has_gi``: the module keyring's KWallet / libsecret
      backend needs is importable, so that backend may be viable.

    Scanning all of sys.path, even for an explicit PYTHON_KEYRING_BACKEND or
    config choice, costs about as much as deciding when to skip it, and keeps
    the keyring/SecretStorage version checks in one place.
    """
    found = _Installation()
    versions: dict[str, list[tuple[int, ...] | None]] = {"keyring": [], "secretstorage": []}
    _check_meta_path(meta_path)
    for entry in search_path:
        root = entry or "."  # importlib.metadata reads "" as the current directory
        if root.endswith(".egg"):
            raise Fallback(f"egg on sys.path: {entry}")
        try:
            names = os.listdir(root)
        except FileNotFoundError:
            continue
        except OSError as exc:
            # A zip file (importlib.metadata reads inside those) or an
            # unreadable directory: cannot see what it holds.
            raise Fallback(f"cannot list sys.path entry {entry!r}: {type(exc).__name__}") from exc
        for name in names:
            if name.startswith(("dbus", "gi")):  # what _is_module can accept: most names skip two calls
                found.has_dbus = found.has_dbus or _is_module(name, "dbus")
                found.has_gi = found.has_gi or _is_module(name, "gi")
            lower = name.lower()
            if not lower.endswith((".dist-info", ".egg-info")):
                continue
            project, version = _parse_dist_name(lower)
            if project in versions:
                versions[project].append(version)
            elif found.plugin is None and _declares_backends(os.path.join(root, name)):
                found.plugin = f"{name} declares keyring backends"
    _check_version("keyring", versions["keyring"], lambda v: v[0] in _KEYRING_MAJORS)
    _check_version("SecretStorage", versions["secretstorage"], lambda v: v >= _MIN_SECRETSTORAGE)
    return found


def _check_meta_path(meta_path: Sequence[object]) -> None:
    """Fallback if an import hook can supply distributions that a sys.path walk misses.

    importlib.metadata asks every ``sys.meta_path`` finder with a
    ``find_distributions``. The standard PathFinder (and importlib_metadata's
    own finder, once loaded) search sys.path, which the scan covers.
    """
    for finder in meta_path:
        if getattr(finder, "find_distributions", None) is None:
            continue
        module = getattr(finder, "__module__", "")
        if module not in ("_frozen_importlib_external", "importlib.metadata", "importlib_metadata"):
            raise Fallback(f"import hook {finder!r} may provide distributions")


def _is_module(name: str, module: str) -> bool:
    """True if directory entry ``name`` could be imported as top-level ``module``."""
    if name == module:  # a package directory
        return True
    return name.split(".", 1)[0] == module and name.endswith((".py", ".pyc", ".so"))


def _parse_dist_name(lower: str) -> tuple[str, tuple[int, ...] | None]:
    """``'secretstorage-3.5.0.dist-info'`` -> ``('secretstorage', (3, 5, 0))``.

    The version is None when the name carries none (an old develop install)
    or it does not start with plain numbers.
    """
    stem = lower.rsplit(".", 1)[0]
    project, _, version = stem.partition("-")
    project = project.replace("-", "_").replace(".", "_")
    numbers = []
    for part in version.split("-", 1)[0].split("."):
        if not part.isdigit():
            break
        numbers.append(int(part))
    return project, tuple(numbers) or None


def _declares_backends(dist_dir: str) -> bool:
    """True if this distribution's entry_points.txt may name the keyring.backends group."""
    try:
        with open(os.path.join(dist_dir, "entry_points.txt"), "rb") as file:
            text = file.read()
    except (FileNotFoundError, NotADirectoryError, IsADirectoryError, PermissionError):
        # The same errors importlib.metadata treats as "no entry points".
        return False
    # A substring test is a superset of the group header "[keyring.backends]".
    return b"keyring.backends" in text.lower()


def _check_version(
    label: str, found: list[tuple[int, ...] | None], acceptable: Callable[[tuple[int, ...]], bool]
) -> None:
    """Fallback unless exactly one distribution of ``label`` is present, of an acceptable version."""
    if len(found) != 1:
        raise Fallback(f"{len(found)} {label} distributions on sys.path")
    version = found[0]
    if version is None or not acceptable(version):
        raise Fallback(f"{label} version {version} is not one this reader mirrors")


# --- the D-Bus exchange ---------------------------------------------------------------


class Reader:
    """What SecretService.Keyring.get_password does, minus prompts, over one connection.

    keyring: default collection (alias "default"); if locked, prompt to
    unlock; SearchItems with exactly {"username", "service"} (the
    "application" attribute is written but not searched); unlock the first
    item; decode its secret as UTF-8. Here every prompt becomes a Fallback.
    The session is encrypted as keyring's is (``dh-ietf1024-sha256-aes128-cbc-pkcs7``),
    so the secret never crosses the bus in the clear, where a bus monitor would
    log it; the AES decryption is :mod:`assumer.store.aes` (importing
    ``cryptography`` would cost more than the rest of a cache hit's read). The
    Secret Service closes the session when this connection goes away.

    The calls go out with as little waiting as gnome-keyring allows (each wait
    is a round trip, and its key agreement takes a few milliseconds):

    - ReadAlias("default") first, with the connection's authentication, and
      its answer waited for. Two things hang on that wait. gnome-keyring (42
      at least) registers a new caller in an idle callback that can run after
      the caller's first calls have been handled; an OpenSession handled that
      early makes the daemon abort (``g_variant_new: expected GVariant of type
      'v'``), taking every secret of the login session offline. So OpenSession
      is never among the first calls: it goes out once the service has answered.
      (A ReadAlias handled that early answers "/", so "/" is asked again once.)
      And the collection is then addressed by its own path: gnome-keyring
      rewrites ``/aliases/default`` on its bus thread from a table its main
      thread replaces whenever a caller arrives, and under load a call sent there
      reaches no object (UnknownMethod) or a garbled one.
    - OpenSession next, without waiting: the service's half of the key
      agreement overlaps the caller's own work.
    - Locked and SearchItems when the entry is asked for. Neither can prompt
      (the specification gives them no Prompt, and gnome-keyring, KeePassXC
      and KWallet answer them without asking, a locked collection's
      SearchItems included), and their replies are checked in keyring's
      order, so a locked collection or a missing item gives the answer that
      waiting for each reply would.
    - GetSecret, the only call that can prompt (KeePassXC confirms reads) and
      the only one that returns the secret, once all of these have passed;
      the shared key is derived while it is in flight.

    The reader hangs up only once every call it sent has been answered (see
    :meth:`_Bus.close`), as a client that waits for each reply does.
    """

    def __init__(self, address: str, miss_is_final: bool) -> None:
        from jeepney import DBusAddress, new_method_call

        self._miss_is_final = miss_is_final
        self._bus = _Bus(address)
        try:
            secrets = DBusAddress(_SERVICE_PATH, _BUS_NAME, _IFACE + "Service")
            read_alias = new_method_call(secrets, "ReadAlias", "s", ("default",))
            (alias_call,) = self._bus.send(read_alias)
            # Made while the service answers.
            self._private = int.from_bytes(os.urandom(dh.EXPONENT_BITS // 8), "big")
            public = dh.public_value(self._private).to_bytes(128, "big")
            (self._collection_path,) = self._bus.reply(alias_call)
            if self._collection_path == "/":  # perhaps asked before gnome-keyring knew this caller
                (self._collection_path,) = self._bus.reply(*self._bus.send(read_alias))
            if self._collection_path == "/":
                raise Fallback("there is no default collection (keyring would create one)")
            (self._session_call,) = self._bus.send(
                new_method_call(secrets, "OpenSession", "sv", (_ALGORITHM, ("ay", public))))
        except BaseException:
            self._bus.close()
            raise

    def __enter__(self) -> Reader:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Hang up: the Secret Service closes the session."""
        self._bus.close()

    def get_password(self, service: str, username: str) -> str | None:
        """As the module's :func:`get_password` (once per reader)."""
        with _AnyFailureFallsBack():
            secret = self._lookup(service, username)
            if secret is None and not self._miss_is_final:
                raise Fallback("not in the Secret Service; keyring's chainer would ask the next backend")
            return secret

    def _lookup(self, service: str, username: str) -> str | None:
        from jeepney import DBusAddress, Properties, new_method_call

        bus = self._bus
        collection = DBusAddress(self._collection_path, _BUS_NAME, _IFACE + "Collection")
        query = {"username": username, "service": service}
        locked_call, search_call = bus.send(
            Properties(collection).get("Locked"), new_method_call(collection, "SearchItems", "a{ss}", (query,))
        )
        ((_signature, locked),) = bus.reply(locked_call)
        if locked is not False:
            raise Fallback("the default collection is locked")
        (paths,) = bus.reply(search_call)
        if not paths:
            return None
        (_signature, server_public), session = bus.reply(self._session_call)
        # Checked before the secret is asked for: it would be encrypted with a guessable key.
        peer = _peer_public(bytes(server_public))
        item = DBusAddress(paths[0], _BUS_NAME, _IFACE + "Item")
        (secret_call,) = bus.send(new_method_call(item, "GetSecret", "o", (session,)))
        key = _session_key(peer, self._private)
        # A locked item answers GetSecret with IsLocked: a Fallback via reply().
        ((_session, params, value, _content_type),) = bus.reply(secret_call)
        self.close()
        secret = _decrypt(key, bytes(params), bytes(value))
        if secret is None:
            # keyring would raise its own error. Raised outside any except block so
            # that nothing chains or logs the UnicodeDecodeError, which quotes a
            # byte of the secret.
            raise Fallback("the stored secret is not UTF-8 (or did not decrypt)")
        return secret


class _Bus:
    """A session bus connection on which calls go out at once and their replies are collected later.

    jeepney's blocking ``DBusConnection`` waits for the authentication, for the
    bus's answer to Hello and for the reply to each call before anything else
    goes out: six round trips for this exchange. This is the same client on
    jeepney's own address parsing, authentication line and message
    (de)serialisation, without the waits: the authentication is pipelined as
    sd-bus does it (``AUTH EXTERNAL`` and ``BEGIN`` in the first write, Hello
    and the first calls right behind; dbus-daemon and dbus-broker accept it),
    and replies are matched to calls by their ``reply_serial``, as
    ``send_and_get_reply`` does. Other messages (the bus's NameAcquired signal,
    the reply to Hello) are dropped, as DBusConnection drops them when no
    filter is set. A bus that refuses EXTERNAL answers REJECTED: a Fallback,
    as jeepney would raise.
    """

    def __init__(self, address: str) -> None:
        import socket

        from jeepney import Parser
        from jeepney.auth import BEGIN, make_auth_external
        from jeepney.bus import get_bus
        from jeepney.bus_messages import message_bus

        self._sock = socket.socket(socket.AF_UNIX)
        try:
            self._sock.settimeout(_AUTH_TIMEOUT)
            self._sock.connect(get_bus(address))
        except BaseException:
            self._sock.close()
            raise
        self._authenticated = False
        # When the server's authentication line must have arrived: _AUTH_TIMEOUT after the
        # first wait for it, not after connecting (the caller may have worked in between,
        # while the answer was already waiting on the socket).
        self._auth_deadline: float | None = None
        self._auth_line = b""
        self._parser = Parser()
        self._replies: dict[int, Message] = {}
        self._unanswered: set[int] = set()  # calls sent whose replies have not arrived
        self._failed = False  # the connection broke or timed out: nothing more will arrive
        self._serial = 0
        # Sent with the first calls.
        self._preamble = b"\0" + make_auth_external() + BEGIN + self._serialise(message_bus.Hello())

    def close(self) -> None:
        """Hang up once every call sent has been answered (or the wait is over).

        gnome-keyring forgets a caller when it leaves the bus, and a call it
        handles for a caller it does not know finds no client record; for
        OpenSession that aborts the daemon (see :class:`Reader`). So a reader
        that needs no more answers (a miss, a locked collection, a caller that
        declined) still waits for them, as a client that waits for each reply
        would have, up to _CALL_TIMEOUT from now. A connection that already
        failed is left at once. A miss pays for the key agreement it did not
        use (a few milliseconds, on a path that goes on to keyring anyway).
        """
        try:
            if self._unanswered and not self._failed:
                deadline = time.monotonic() + _CALL_TIMEOUT
                while self._unanswered:
                    self._next_reply(deadline)
        except Exception:  # noqa: BLE001 - hanging up is all that is left to do
            self._failed = True
        finally:
            self._sock.close()

    def _serialise(self, message: Message) -> bytes:
        self._serial += 1
        data: bytes = message.serialise(serial=self._serial)
        return data

    def send(self, *messages: Message) -> list[int]:
        """Send ``messages`` in one write; their serials, for :meth:`reply`."""
        data = self._preamble + b"".join([self._serialise(message) for message in messages])
        self._preamble = b""
        self._sock.sendall(data)
        serials = list(range(self._serial - len(messages) + 1, self._serial + 1))
        self._unanswered.update(serials)
        return serials

    def reply(self, serial: int) -> tuple[Any, ...]:
        """The body of the reply to call ``serial``; Fallback on an error reply.

        Waits up to _CALL_TIMEOUT from now, as long as a call made now would wait.
        """
        from jeepney import HeaderFields, MessageType

        deadline = time.monotonic() + _CALL_TIMEOUT
        while serial not in self._replies:
            self._next_reply(deadline)
        reply = self._replies.pop(serial)
        if reply.header.message_type == MessageType.error:
            # e.g. ServiceUnknown, UnknownObject (no default collection:
            # keyring would create one), Secret.Error.IsLocked.
            raise Fallback(f"D-Bus error {reply.header.fields.get(HeaderFields.error_name)}")
        body: tuple[Any, ...] = reply.body  # its shape is the reply's D-Bus signature
        return body

    def _next_reply(self, deadline: float) -> None:
        """Take the next message off the connection, keeping it if it is a reply; waits until ``deadline``."""
        from jeepney import HeaderFields

        message = self._parser.get_next_message()
        if message is None:
            try:
                self._receive(deadline)
            except BaseException:
                self._failed = True
                raise
            return
        reply_to = message.header.fields.get(HeaderFields.reply_serial)
        if reply_to is not None:
            self._replies[reply_to] = message
            self._unanswered.discard(reply_to)

    def _receive(self, deadline: float) -> None:
        """Read what has arrived, waiting until ``deadline`` (and the authentication's own) at most."""
        if not self._authenticated:
            if self._auth_deadline is None:
                self._auth_deadline = time.monotonic() + _AUTH_TIMEOUT
            deadline = min(deadline, self._auth_deadline)
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError("no reply from the session bus in time")
        self._sock.settimeout(remaining)
        data = self._sock.recv(65536)
        if not data:
            raise ConnectionResetError("the session bus closed the connection")
        if self._authenticated:
            self._parser.add_data(data)
            return
        # The server's one line of the authentication, then the messages.
        line, end, rest = (self._auth_line + data).partition(b"\r\n")
        if not end:
            if len(line) > 8192:  # jeepney's limit for a line
                raise Fallback("the session bus sent no authentication reply")
            self._auth_line = line
            return
        if not line.startswith(b"OK "):
            raise Fallback(f"the session bus refused authentication: {line[:100]!r}")
        self._authenticated = True
        self._parser.add_data(rest)


def _peer_public(server_public: bytes) -> int:
    """The Secret Service's Diffie-Hellman public value; Fallback if it would make the key guessable."""
    peer = int.from_bytes(server_public, "big")
    if not 1 < peer < dh.PRIME - 1:  # 0, 1 and p-1 would make the shared secret guessable
        raise Fallback("the Secret Service sent an unusable public key")
    return peer


def _session_key(peer: int, private: int) -> bytes:
    """The AES-128 key of the session: HKDF-SHA256 (no salt, no info) of the Diffie-Hellman secret."""
    shared = dh.shared_secret(peer, private).to_bytes(128, "big")
    return hmac_sha256(hmac_sha256(b"\0" * 32, shared), b"\x01")[:16]


def hmac_sha256(key: bytes, message: bytes) -> bytes:
    """RFC 2104 HMAC-SHA256 for a key of at most 64 bytes (hmac would import hashlib, hence OpenSSL)."""
    from assumer.digest import sha256

    block = key.ljust(64, b"\0")
    inner = sha256(bytes(b ^ 0x36 for b in block) + message)
    return sha256(bytes(b ^ 0x5C for b in block) + inner)


def _decrypt(key: bytes, iv: bytes, value: bytes) -> str | None:
    """The secret, or None when it does not decrypt to UTF-8 (nothing of it goes into an exception)."""
    from assumer.store import aes

    try:
        return aes.unpad_pkcs7(aes.decrypt_cbc(key, iv, value)).decode("utf-8")
    except (ValueError, UnicodeDecodeError):  # UnicodeDecodeError is a ValueError that quotes a byte
        return None


def _log() -> logging.Logger:
    # logging is imported only on the way to a fallback, which imports keyring anyway.
    import logging

    return logging.getLogger(__name__)
