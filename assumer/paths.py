"""Where assumer keeps its non-secret files (XDG base directories).

The directories are :class:`pathlib.Path` objects, but :func:`config_file` is a
str built with :mod:`os.path`: the credential helper's cache hit reads
``registries.json`` and nothing else from here, and importing pathlib (with
fnmatch, ipaddress, ntpath and urllib) would cost it about 3 ms.
"""

from __future__ import annotations

import os
import stat
from typing import TYPE_CHECKING, Any

from assumer.errors import ConfigError

if TYPE_CHECKING:
    from pathlib import Path


def _xdg_base(variable: str, fallback: str) -> str:
    """``$VARIABLE`` when it is an absolute path, else ``fallback`` with ``~`` expanded."""
    value = os.environ.get(variable)
    if value and os.path.isabs(value):
        return value
    return os.path.expanduser(fallback)


def _xdg(variable: str, fallback: str) -> Path:
    from pathlib import Path

    return Path(_xdg_base(variable, fallback))


def state_dir() -> Path:
    """``$XDG_STATE_HOME/assumer``: the session index (no secrets)."""
    return _xdg("XDG_STATE_HOME", "~/.local/state") / "assumer"


def config_dir() -> Path:
    """``$XDG_CONFIG_HOME/assumer``: the registry -> profile map for the Docker helper."""
    return _xdg("XDG_CONFIG_HOME", "~/.config") / "assumer"


def config_file(name: str) -> str:
    """``config_dir() / name`` as a str, without pathlib (``Path(config_file(name))`` is that Path)."""
    return os.path.join(_xdg_base("XDG_CONFIG_HOME", "~/.config"), "assumer", name)


def lock_dir() -> Path:
    """A private (0700) directory for lock files: ``$XDG_RUNTIME_DIR/assumer``, else under the cache dir.

    Refuses a directory that is a symlink, not ours, or open to others, since a
    lock file there could be swapped by another user. When ``$XDG_RUNTIME_DIR`` is
    shared and someone else made ``assumer`` there first, that is said once and the
    directory under the cache dir is used; only when both are unsafe is it an error.
    """
    from pathlib import Path

    fallback = _xdg("XDG_CACHE_HOME", "~/.cache") / "assumer" / "locks"
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    if not runtime or not os.path.isdir(runtime):
        return private_dir(fallback)
    try:
        return private_dir(Path(runtime) / "assumer")
    except ConfigError as first:
        unsafe = first.message
    try:
        path = private_dir(fallback)
    except ConfigError as second:
        raise ConfigError(f"no safe directory for lock files: {unsafe}; {second.message}",
                          hint="remove them, or make them directories of yours with mode 0700") from None
    from assumer import ui  # only on this detour: a cache hit takes no lock

    ui.warn(f"{unsafe}; using {path} for lock files instead")
    return path


def private_dir(path: Path) -> Path:
    """Create ``path`` (mode 0700) if needed and check that only we can use it."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        try:
            os.mkdir(path, 0o700)
        except FileExistsError:
            pass
        info = os.lstat(path)
    except OSError as exc:
        raise ConfigError(f"cannot create {path}: {exc.strerror}", hint="check the directory's permissions") from None
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.getuid() or info.st_mode & 0o077:
        raise ConfigError(
            f"{path} is not a private directory of this user",
            hint="remove it, or make it a directory of yours with mode 0700",
        )
    return path


def write_private_file(path: Path, text: str) -> None:
    """Write ``text`` atomically (temp file in the same directory, then rename), mode 0600."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        try:
            os.unlink(temporary)
        except FileNotFoundError:
            pass
        raise


def read_json_object(path: Path, *, what: str, hint: str) -> dict[str, Any]:
    """A JSON object from ``path`` ({} when there is no file); ConfigError naming ``what`` otherwise.

    Its values are whatever the file holds (Any): each caller checks the ones it uses.
    """
    import json

    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        raise ConfigError(f"cannot read {what} {path}: {exc}", hint=hint) from None
    if not isinstance(data, dict):
        raise ConfigError(f"{what} {path} is not a JSON object", hint=hint)
    return data
