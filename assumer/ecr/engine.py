"""Running the container engine (docker or podman): login, tag, push.

Secrets reach the engine on stdin (``login --password-stdin``) or through the
credential helper (``push``), never on argv or in a file. A push runs with a
private, temporary Docker config that names ``docker-credential-assumer`` for
that one registry and otherwise points at the user's own settings, so nothing is
added to the user's config and nothing is left behind: the directory is removed
on success, failure, Ctrl-C and SIGTERM (the signal is passed on to the engine).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import threading
from collections import deque
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import IO, Any, cast

from assumer.errors import AssumerError, EngineError
from assumer.paths import read_json_object

HELPER = "docker-credential-assumer"
HELPER_NAME = "assumer"  # what credHelpers names: docker runs docker-credential-<name>
# How long a stopped engine gets to exit before it is killed.
STOP_GRACE = 10.0
_DIGEST_LINE = re.compile(r"digest: (sha256:[0-9a-f]{64})")
_NO_IMAGE = re.compile(r"no such image|image not known|not found|does not exist locally", re.I)
_NO_DAEMON = re.compile(r"cannot connect to the docker daemon|connection refused|no such file or directory.*sock|"
                        r"unable to connect to podman|is the docker daemon running", re.I)


class Stopped(AssumerError):
    """The command was stopped by a signal; a running engine was stopped, temporary files removed."""

    def __init__(self, signum: int, *, engine: str | None = None) -> None:
        name = signal.Signals(signum).name
        done = f"stopped {engine} and removed the temporary files" if engine else "nothing was left behind"
        super().__init__(f"stopped by {name}; {done}")
        self.exit_code = 128 + signum  # 130 for Ctrl-C, 143 for SIGTERM, as a shell reports them


@dataclass(frozen=True)
class Engine:
    """An engine program, and which command-line dialect it speaks."""

    name: str  # what the user chose: docker or podman
    path: str
    flavour: str  # docker or podman (podman-docker installs a 'docker' that is podman)


def find_engine(choice: str, *, environ: Mapping[str, str] = os.environ) -> Engine:
    """``--engine docker|podman|auto`` -> the program (auto: docker, else podman)."""
    names = ("docker", "podman") if choice == "auto" else (choice,)
    search = environ.get("PATH", os.defpath)
    for name in names:
        path = shutil.which(name, path=search)
        if path:
            return Engine(name, path, _flavour(name, path))
    wanted = " or ".join(names)
    raise EngineError(f"no container engine found: {wanted} is not on PATH",
                      hint="install docker or podman, or choose one with --engine")


def _flavour(name: str, path: str) -> str:
    if name == "podman":
        return "podman"
    try:  # podman-docker's 'docker' says "podman version ..."
        out = subprocess.run([path, "--version"], capture_output=True, text=True, timeout=10,
                             stdin=subprocess.DEVNULL, check=False).stdout
    except (OSError, subprocess.TimeoutExpired):
        return "docker"
    return "podman" if out.lower().startswith("podman") else "docker"


# -- signals -----------------------------------------------------------------------


class _Guard:
    """Passes SIGINT/SIGTERM/SIGHUP on to the running engine and raises :class:`Stopped` once."""

    def __init__(self) -> None:
        self.child: subprocess.Popen[str] | None = None
        self.stopping = False
        self.defer = False  # during clean-up: note the signal, raise once the clean-up is done
        self.pending: int | None = None

    def handle(self, signum: int, _frame: FrameType | None) -> None:
        child = _running(self.child)
        if child is not None:
            try:
                child.send_signal(signum)
            except ProcessLookupError:
                pass
        if self.defer:
            self.pending = self.pending or signum
        elif not self.stopping:  # a second signal during clean-up must not cut the clean-up short
            self.stopping = True
            raise Stopped(signum, engine=_program(child) if child is not None else None)


def _running(child: subprocess.Popen[str] | None) -> subprocess.Popen[str] | None:
    """``child`` while it still runs, else None."""
    return child if child is not None and child.poll() is None else None


def _program(child: subprocess.Popen[str]) -> str:
    """The engine's program name: :func:`run` always starts it with a list argv."""
    return os.path.basename(cast("list[str]", child.args)[0])


_guard = _Guard()
_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


@contextmanager
def stop_on_signals() -> Iterator[None]:
    """For the whole of an ecr command: a signal stops the engine and unwinds (finally blocks run)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {sig: signal.signal(sig, _guard.handle) for sig in _SIGNALS}
    _guard.stopping, _guard.pending = False, None
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


@contextmanager
def _shielded() -> Iterator[None]:
    """Let a clean-up finish: a signal arriving meanwhile raises :class:`Stopped` right after it."""
    outer = _guard.defer
    _guard.defer = True
    try:
        yield
    finally:
        _guard.defer = outer
        pending, _guard.pending = _guard.pending, None
        if pending and not outer and not _guard.stopping:
            _guard.stopping = True
            child = _running(_guard.child)
            if child is not None:  # it was started while the signal waited: it gets the signal too
                child.send_signal(pending)
            raise Stopped(pending, engine=_program(child) if child is not None else None)


def _finish(child: subprocess.Popen[str]) -> None:
    """Make sure the engine has exited (it was sent our signal; give it time, then kill)."""
    if child.poll() is None:
        try:
            child.wait(timeout=STOP_GRACE)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()


# -- running -----------------------------------------------------------------------


@dataclass(frozen=True)
class Result:
    """An engine command's exit status and what it printed."""

    status: int
    stdout: str
    stderr: str

    def message(self) -> str:
        """The engine's own last words, for an error line (its stderr's, else its stdout's)."""
        for stream in (self.stderr, self.stdout):
            lines = [line.strip() for line in stream.splitlines() if line.strip()]
            if lines:
                return lines[-1]
        return f"exit status {self.status}"


def _pump(stream: IO[str], keep: deque[str], echo: bool) -> None:
    for line in stream:
        keep.append(line)
        if echo:
            try:
                sys.stderr.write(line)
                sys.stderr.flush()
            except (OSError, ValueError):
                echo = False


def run(argv: list[str], *, env: Mapping[str, str], input: str | None = None, echo: bool = False) -> Result:
    """Run the engine with a list argv; ``input`` goes to its stdin (the only way a secret does).

    With ``echo`` its output (stdout included: docker prints progress there) is
    copied to our stderr as it comes, so stdout stays for what we print.
    """
    child = None
    try:
        with _shielded():  # a signal during the spawn is passed on once the child is known
            try:
                child = subprocess.Popen(argv, env=dict(env), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                         stdin=subprocess.PIPE if input is not None else subprocess.DEVNULL,
                                         text=True)
            except OSError as exc:
                raise EngineError(f"cannot run {argv[0]}: {exc.strerror}") from None
            _guard.child = child
        out: deque[str] = deque(maxlen=2000)
        err: deque[str] = deque(maxlen=2000)
        readers = [threading.Thread(target=_pump, args=(child.stdout, out, echo), daemon=True),
                   threading.Thread(target=_pump, args=(child.stderr, err, echo), daemon=True)]
        for reader in readers:
            reader.start()
        if input is not None and child.stdin is not None:
            try:
                child.stdin.write(input)
                child.stdin.close()
            except BrokenPipeError:
                pass
        status = child.wait()
        for reader in readers:
            reader.join(timeout=5)
    finally:
        if child is not None:
            _finish(child)
        _guard.child = None
    return Result(status, "".join(out), "".join(err))


def _fail(engine: Engine, what: str, result: Result, hint: str | None = None) -> EngineError:
    message = result.message()
    if hint is None and _NO_DAEMON.search(message):
        hint = f"is the {engine.name} daemon (or podman service) running? Check DOCKER_HOST and the current context"
    return EngineError(f"{engine.name} {what} failed: {message}", hint=hint)


def login(engine: Engine, host: str, username: str, password: str, *, env: Mapping[str, str]) -> str:
    """``ENGINE login --username U --password-stdin HOST``; returns the engine's message."""
    result = run([engine.path, "login", "--username", username, "--password-stdin", host], env=env,
                 input=password)
    if result.status != 0:
        raise _fail(engine, f"login to {host}", result)
    return result.message()


def tag(engine: Engine, source: str, target: str, *, env: Mapping[str, str]) -> None:
    """``ENGINE tag SOURCE TARGET``; a missing local image is said as such."""
    result = run([engine.path, "tag", source, target], env=env)
    if result.status == 0:
        return
    if _NO_IMAGE.search(result.message()) and not _NO_DAEMON.search(result.message()):
        raise EngineError(f"the local image {source!r} was not found ({result.message()})",
                          hint=f"build or pull it first; '{engine.name} images' lists what there is")
    raise _fail(engine, f"tag {source}", result)


# -- the scoped push ---------------------------------------------------------------


def helper_directory(environ: Mapping[str, str]) -> str:
    """The directory holding ``docker-credential-assumer``: beside this Python or this script first, then PATH."""
    candidates = [Path(sys.executable).parent, Path(sys.argv[0]).resolve().parent if sys.argv[0] else None]
    for directory in candidates:
        if directory is not None and os.access(directory / HELPER, os.X_OK):
            return str(directory)
    found = shutil.which(HELPER, path=environ.get("PATH", os.defpath))
    if found:
        return str(Path(found).parent)
    raise EngineError(f"{HELPER} is not installed", hint="reinstall assumer; it ships that second command")


def user_docker_dir(environ: Mapping[str, str]) -> Path:
    """``$DOCKER_CONFIG``, else ``~/.docker``: where the user's Docker CLI settings live."""
    configured = environ.get("DOCKER_CONFIG")
    return Path(configured) if configured else Path(environ.get("HOME") or os.path.expanduser("~")) / ".docker"


def read_docker_config(path: Path) -> dict[str, Any]:
    """The user's Docker ``config.json`` as a dict ({} when there is none)."""
    return read_json_object(path, what="the Docker config", hint="fix or move that file")


def scoped_config(user: dict[str, Any], host: str) -> dict[str, Any]:
    """The user's config minus every stored login, with the helper named for ``host``.

    ``auths`` goes (it holds base64 passwords, which must not be copied into
    another file); currentContext, proxies, credsStore, other credHelpers stay.
    """
    config = {key: value for key, value in user.items() if key != "auths"}
    helpers = dict(config.get("credHelpers") or {})
    helpers[host] = HELPER_NAME
    config["credHelpers"] = helpers
    return config


def _write_new(path: Path, text: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)


def _temp_root(environ: Mapping[str, str]) -> str | None:
    runtime = environ.get("XDG_RUNTIME_DIR")
    return runtime if runtime and os.path.isdir(runtime) and os.access(runtime, os.W_OK) else None


PUSH_DIR_PREFIX = "assumer-push-"
_PUSH_DIR = re.compile(rf"{PUSH_DIR_PREFIX}(\d+)-")


def _alive(pid: int) -> bool:
    """Whether process ``pid`` exists (another user's counts: it is not ours to judge)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_stale_configs(root: str | None) -> list[str]:
    """Remove private push configs whose push is gone (SIGKILL leaves them); returns what was removed.

    Each directory is named ``assumer-push-<pid>-...`` after the process that made
    it: one whose process still runs is a concurrent push and is left alone, as is
    anything that is not a directory of this user.
    """
    base = root or tempfile.gettempdir()
    removed: list[str] = []
    try:
        entries = list(os.scandir(base))
    except OSError:
        return removed
    for entry in entries:
        match = _PUSH_DIR.match(entry.name)
        if match is None or int(match.group(1)) == os.getpid():
            continue
        try:
            info = entry.stat(follow_symlinks=False)
        except OSError:
            continue
        if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.getuid() or _alive(int(match.group(1))):
            continue
        shutil.rmtree(entry.path, ignore_errors=True)
        removed.append(entry.path)
    return removed


@contextmanager
def private_docker_config(engine: Engine, host: str, helper_env: Mapping[str, str],
                     environ: Mapping[str, str] = os.environ) -> Iterator[tuple[dict[str, str], list[str]]]:
    """A private temporary config for one push: yields (child env, extra push arguments).

    docker: ``DOCKER_CONFIG`` -> a 0700 directory whose config.json is
    :func:`scoped_config` and whose other entries (contexts/, cli-plugins/, TLS
    files, ...) are symlinks to the user's, with ``DOCKER_CERT_PATH`` kept, so the
    push reaches the same engine with the same settings. podman: ``--authfile``.
    The directory's name carries this process's id, so that the next push can
    remove it if this one is killed (SIGKILL) before it can clean up.
    """
    root = _temp_root(environ)
    remove_stale_configs(root)
    directory = Path(tempfile.mkdtemp(prefix=f"{PUSH_DIR_PREFIX}{os.getpid()}-", dir=root))
    try:
        env = dict(environ)
        env.update(helper_env)
        env["PATH"] = os.pathsep.join([helper_directory(environ), environ.get("PATH", os.defpath)])
        extra: list[str] = []
        if engine.flavour == "podman":
            auth = directory / "auth.json"
            _write_new(auth, json.dumps({"auths": {}, "credHelpers": {host: HELPER_NAME}}))
            extra = ["--authfile", str(auth), "--digestfile", str(directory / "digest")]
        else:
            user_dir = user_docker_dir(environ)
            config = scoped_config(read_docker_config(user_dir / "config.json"), host)
            _write_new(directory / "config.json", json.dumps(config, indent=1))
            if user_dir.is_dir():
                for entry in user_dir.iterdir():
                    if entry.name != "config.json":
                        (directory / entry.name).symlink_to(entry)
            env["DOCKER_CONFIG"] = str(directory)
            # The CLI looks for ca.pem/cert.pem/key.pem in the config directory by default.
            env.setdefault("DOCKER_CERT_PATH", str(user_dir))
        yield env, extra
    finally:
        with _shielded():
            shutil.rmtree(directory, ignore_errors=True)


def push(engine: Engine, reference: str, *, env: Mapping[str, str], extra: list[str]) -> str:
    """Push ``reference`` with progress on stderr; returns the manifest digest the engine reported."""
    result = run([engine.path, "push", *extra, reference], env=env, echo=True)
    if result.status != 0:
        message = result.message()
        hint = None
        if re.search(r"name unknown|repository .* does not exist|NAME_UNKNOWN", message, re.I):
            hint = "create the repository, or pass --create-repository"
        elif re.search(r"unauthorized|denied|authentication required|403|401", message, re.I):
            hint = "the role needs the ECR push actions on this repository ('assumer policy' prints them)"
        raise _fail(engine, f"push {reference}", result, hint)
    digest = _digest(result.stdout + result.stderr, extra)
    if digest is None:
        raise EngineError(f"{engine.name} pushed {reference} but did not report its digest",
                          hint="check the registry; the push itself succeeded")
    return digest


def _digest(output: str, extra: list[str]) -> str | None:
    if "--digestfile" in extra:
        path = Path(extra[extra.index("--digestfile") + 1])
        try:
            text = path.read_text().strip()
        except OSError:
            text = ""
        if re.fullmatch(r"sha256:[0-9a-f]{64}", text):
            return text
    found = _DIGEST_LINE.findall(output)
    return found[-1] if found else None
