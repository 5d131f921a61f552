"""Which profile serves which registry for ``docker-credential-assumer``, and its set-up.

``assumer ecr-helper configure`` records the route in ``registries.json`` (XDG
config directory) and names the helper for that host in the engine's config.
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from assumer import fastjson, paths
from assumer.ecr.registry import strip_url
from assumer.errors import ConfigError, EngineError
from assumer.records import Record

if TYPE_CHECKING:  # pathlib only where a Path is made: the helper's cache hit reads the map through a str
    from pathlib import Path

MAPPING_FILE = "registries.json"  # in paths.config_dir()


class Route(Record):
    """Which profile (and region override) serves a registry."""

    profile: str
    region: str | None = None
    source_profile: str | None = None  # with a role ARN as the profile
    # The user opted in (--allow-non-ecr-registry) to sending this host, which is not ECR, an ECR token.
    allow_non_ecr_registry: bool = False
    duration: int | None = None  # ecr-push --duration, for the helper serving that one push (never stored)


_STORED = ("profile", "region", "source_profile", "allow_non_ecr_registry")


def mapping_file() -> Path:
    return paths.config_dir() / MAPPING_FILE


def _shown(path: str | Path) -> str:
    """``path`` as messages name it: as a Path (a str path is shown as ``Path(path)`` would print)."""
    from pathlib import Path  # only for a message: never on a cache hit

    return str(Path(path))


def _unsafe(info: os.stat_result, *, directory: bool) -> str | None:
    """Why a file or directory with this status may not be trusted (None: only this user can change it)."""
    kind = stat.S_ISDIR(info.st_mode) if directory else stat.S_ISREG(info.st_mode)
    if not kind:
        return "is not a directory" if directory else "is not a regular file"
    if info.st_uid != os.getuid():
        return "belongs to another user"
    if info.st_mode & 0o022:
        return f"can be changed by other users (mode {stat.S_IMODE(info.st_mode):04o})"
    return None


def read_trusted(path: str | Path, *, what: str, hint: str) -> str | None:
    """The text of ``path`` when only this user can change it and its directory; None when absent.

    A file (or directory) that another user owns or may write is refused with a
    ConfigError, as the writer refuses such a directory: the registry map decides
    which host gets a token.
    """
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NOCTTY)
    except FileNotFoundError:
        return None
    except OSError as exc:
        reason = "is a symbolic link" if exc.errno == errno.ELOOP else f"cannot be read: {exc.strerror}"
        raise ConfigError(f"{what} {_shown(path)} {reason}", hint=hint) from None
    with os.fdopen(fd, encoding="utf-8") as handle:
        problem = _unsafe(os.fstat(handle.fileno()), directory=False)
        if problem is None:
            try:
                problem = _unsafe(os.lstat(os.path.dirname(path) or "."), directory=True)  # Path(path).parent
            except OSError as exc:
                problem = f"is in a directory that cannot be checked ({exc.strerror})"
            else:
                problem = problem and f"is in a directory that {problem}"
        if problem:
            raise ConfigError(f"{what} {_shown(path)} {problem}, so it is not trusted", hint=hint)
        try:
            return handle.read()
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"cannot read {what} {_shown(path)}: {exc}", hint=hint) from None


def load_routes(path: str | Path | None = None) -> dict[str, Route]:
    """The registry -> profile map written by ``ecr-helper configure`` ({} when absent).

    Trusted only when this user alone can change it (see :func:`read_trusted`).
    """
    path = path or paths.config_file(MAPPING_FILE)  # mapping_file(), without pathlib
    text = read_trusted(path, what="the registry map", hint="make it yours and writable only by you "
                        "(chmod go-w), or remove it and run 'assumer ecr-helper configure' again")
    if text is None:
        return {}
    again = "fix it, or run 'assumer ecr-helper configure' again"
    try:
        data = fastjson.loads(text)
    except ValueError as exc:
        raise ConfigError(f"cannot read the registry map {_shown(path)}: {exc}", hint=again) from None
    if not isinstance(data, dict):
        raise ConfigError(f"the registry map {_shown(path)} is not a JSON object", hint=again)
    registries = data.get("registries")
    if not isinstance(registries, dict):
        raise ConfigError(f"{_shown(path)} has no 'registries' object", hint="run 'assumer ecr-helper configure' again")
    found = {}
    for host, entry in registries.items():
        if isinstance(entry, dict) and isinstance(entry.get("profile"), str):
            found[host] = Route(entry["profile"], entry.get("region"), entry.get("source_profile"),
                                entry.get("allow_non_ecr_registry") is True)
    return found


def save_route(host: str, entry: Route, path: Path | None = None) -> Path:
    """Record that ``entry`` serves ``host`` (written atomically, 0600; other entries kept)."""
    import json

    path = path or mapping_file()
    paths.private_dir(path.parent)
    current = load_routes(path)
    current[host] = entry
    body = {"registries": {h: {k: v for k, v in m._asdict().items() if k in _STORED and v not in (None, False)}
                           for h, m in sorted(current.items())}}
    paths.write_private_file(path, json.dumps(body, indent=1) + "\n")
    return path


def _drop_logins(config: dict[str, Any], host: str) -> bool:
    """Remove every stored login for ``host`` from ``config["auths"]`` (keyed by host, URL or host/path)."""
    auths = config.get("auths")
    if not isinstance(auths, dict):
        return False
    keys = [key for key in auths if key == host or strip_url(key) == host]
    for key in keys:
        del auths[key]
    return bool(keys)


def _rewrite(target: Path, config: dict[str, Any]) -> None:
    """Write ``config`` to ``target`` atomically, keeping its mode (0600 for a new file)."""
    import json

    target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    mode = target.stat().st_mode & 0o777 if target.exists() else 0o600
    temporary = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, mode)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle_:
            handle_.write(json.dumps(config, indent="\t") + "\n")
            handle_.flush()
            os.fsync(handle_.fileno())
        os.replace(temporary, target)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def add_cred_helper(config_path: Path, host: str) -> bool:
    """Name the helper for ``host`` in a Docker config, keeping everything else; atomic.

    Returns True when a stored login (``auths[host]``) was removed: the helper
    replaces it, and it held a base64 password on disk.
    """
    from assumer.ecr.engine import HELPER_NAME, read_docker_config

    target = config_path.resolve() if config_path.is_symlink() else config_path
    config = read_docker_config(target)
    helpers = config.get("credHelpers")
    if helpers is not None and not isinstance(helpers, dict):
        raise ConfigError(f"{target}: credHelpers is not an object", hint="fix that file")
    config["credHelpers"] = {**(helpers or {}), host: HELPER_NAME}
    removed = _drop_logins(config, host)
    _rewrite(target, config)
    return removed


def containers_auth_files(environ: Mapping[str, str]) -> list[Path]:
    """Where podman, skopeo and buildah keep logins, which they read before Docker's config.

    ``$REGISTRY_AUTH_FILE``, ``$XDG_RUNTIME_DIR/containers/auth.json`` and
    ``${XDG_CONFIG_HOME:-~/.config}/containers/auth.json`` (containers-auth.json(5)).
    """
    from pathlib import Path

    home = Path(environ.get("HOME") or os.path.expanduser("~"))
    found = [Path(environ["REGISTRY_AUTH_FILE"])] if environ.get("REGISTRY_AUTH_FILE") else []
    if environ.get("XDG_RUNTIME_DIR"):
        found.append(Path(environ["XDG_RUNTIME_DIR"]) / "containers" / "auth.json")
    config_home = environ.get("XDG_CONFIG_HOME")
    found.append((Path(config_home) if config_home and os.path.isabs(config_home) else home / ".config")
                 / "containers" / "auth.json")
    return list(dict.fromkeys(found))


def remove_containers_logins(host: str, environ: Mapping[str, str]) -> tuple[list[Path], list[tuple[Path, str]]]:
    """Remove ``host``'s stored logins from the podman/skopeo auth files.

    Returns (files a login was removed from, [(file, why it was left as it is)]).
    """
    import json

    removed: list[Path] = []
    left: list[tuple[Path, str]] = []
    for path in containers_auth_files(environ):
        target = path.resolve() if path.is_symlink() else path
        try:
            text = target.read_text(encoding="utf-8")
        except FileNotFoundError:
            continue
        except OSError as exc:
            left.append((path, f"cannot read it: {exc.strerror}"))
            continue
        try:
            config = json.loads(text)
        except ValueError:
            left.append((path, "it is not JSON"))
            continue
        if not isinstance(config, dict):
            left.append((path, "it is not a JSON object"))
            continue
        if _drop_logins(config, host):
            try:
                _rewrite(target, config)
            except OSError as exc:
                left.append((path, f"cannot write it: {exc.strerror}"))
                continue
            removed.append(path)
    return removed, left


def check_on_path(environ: Mapping[str, str]) -> str:
    """Where the engine will find the helper; EngineError when it will not."""
    import shutil

    from assumer.ecr.engine import HELPER, helper_directory

    found = shutil.which(HELPER, path=environ.get("PATH", os.defpath))
    if found:
        return found
    try:
        where = helper_directory(environ)
    except EngineError:
        where = None
    hint = f"add {where} to PATH" if where else "reinstall assumer, which ships it"
    raise EngineError(f"{HELPER} is not on PATH, so the engine could not run it", hint=hint)


class Configured(Record):
    """What ``ecr-helper configure`` did."""

    helper: str  # where the engine finds docker-credential-assumer
    mapping: Path  # registries.json
    config: Path  # the engine's config.json
    removed_login: bool  # a stored login for the host was removed from it
    removed_from: list[Path]  # podman/skopeo auth files a stored login for the host was removed from
    left: list[tuple[Path, str]]  # auth files that could not be checked, and why


def configure(profile: str, host: str, environ: Mapping[str, str], *,
              region: str | None = None, source_profile: str | None = None,
              allow_non_ecr_registry: bool = False) -> Configured:
    """``ecr-helper configure``: check the helper, record the mapping, add the credHelpers entry.

    Stored logins for the host go: from Docker's config and from the podman/skopeo
    auth files, which those engines read before any helper.
    """
    from assumer.ecr.engine import user_docker_dir

    helper = check_on_path(environ)
    mapping = save_route(host, Route(profile, region, source_profile, allow_non_ecr_registry))
    config = user_docker_dir(environ) / "config.json"
    removed = add_cred_helper(config, host)
    removed_from, left = remove_containers_logins(host, environ)
    return Configured(helper, mapping, config, removed, removed_from, left)
