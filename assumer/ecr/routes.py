"""Which profile serves which registry for ``docker-credential-assumer``, and its set-up.

``assumer ecr-helper configure`` records the route in ``registries.json`` (XDG
config directory) and names the helper for that host in the engine's config.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import NamedTuple

from assumer import paths
from assumer.errors import ConfigError, EngineError


class Route(NamedTuple):
    """Which profile (and region override) serves a registry."""

    profile: str
    region: str | None = None
    source_profile: str | None = None  # with a role ARN as the profile


def mapping_file() -> Path:
    return paths.config_dir() / "registries.json"


def load_routes(path: Path | None = None) -> dict[str, Route]:
    """The registry -> profile map written by ``ecr-helper configure`` ({} when absent)."""
    path = path or mapping_file()
    again = "fix it, or run 'assumer ecr-helper configure' again"
    data = paths.read_json_object(path, what="the registry map", hint=again)
    if not data:
        return {}
    registries = data.get("registries")
    if not isinstance(registries, dict):
        raise ConfigError(f"{path} has no 'registries' object", hint="run 'assumer ecr-helper configure' again")
    found = {}
    for host, entry in registries.items():
        if isinstance(entry, dict) and isinstance(entry.get("profile"), str):
            found[host] = Route(entry["profile"], entry.get("region"), entry.get("source_profile"))
    return found


def save_route(host: str, entry: Route, path: Path | None = None) -> Path:
    """Record that ``entry`` serves ``host`` (written atomically, 0600; other entries kept)."""
    path = path or mapping_file()
    current = load_routes(path)
    current[host] = entry
    body = {"registries": {h: {k: v for k, v in m._asdict().items() if v is not None}
                           for h, m in sorted(current.items())}}
    paths.private_dir(path.parent)
    paths.write_private_file(path, json.dumps(body, indent=1) + "\n")
    return path


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
    auths = config.get("auths")
    removed = isinstance(auths, dict) and auths.pop(host, None) is not None
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
    return removed


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


class Configured(NamedTuple):
    """What ``ecr-helper configure`` did."""

    helper: str  # where the engine finds docker-credential-assumer
    mapping: Path  # registries.json
    config: Path  # the engine's config.json
    removed_login: bool  # a stored login for the host was removed from it


def configure(profile: str, host: str, environ: Mapping[str, str], *,
              region: str | None = None, source_profile: str | None = None) -> Configured:
    """``ecr-helper configure``: check the helper, record the mapping, add the credHelpers entry."""
    from assumer.ecr.engine import user_docker_dir

    helper = check_on_path(environ)
    mapping = save_route(host, Route(profile, region, source_profile))
    config = user_docker_dir(environ) / "config.json"
    removed = add_cred_helper(config, host)
    return Configured(helper, mapping, config, removed)
