"""``docker-credential-assumer``: the Docker credential-helper protocol, and its set-up.

Docker, podman, skopeo and buildah run ``docker-credential-<name> ACTION`` with
the server URL (or a JSON object for ``store``) on stdin. ``get`` answers with
``{"ServerURL", "Username", "Secret"}`` minted from the profile that serves the
registry: the one ``ecr-push`` names in the engine's environment for a single
push, else the one ``assumer ecr-helper configure`` recorded. Tokens are minted,
not kept, so ``store`` and ``erase`` succeed without storing anything (a
``docker login`` through the helper never breaks). Errors go to stdout (where
the engine looks for them) and stderr, with exit status 1.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any, Callable, Mapping, NamedTuple, TextIO

from assumer import __version__, paths
from assumer.ecr import strip_url
from assumer.errors import AssumerError, ConfigError, EngineError

NOT_FOUND = "credentials not found in native keychain"  # the protocol's own words, which engines match
# Set by ecr-push in the engine's environment: which profile serves which registry for that push.
ENV_REGISTRY = "ASSUMER_HELPER_REGISTRY"
ENV_PROFILE = "ASSUMER_HELPER_PROFILE"
ENV_REGION = "ASSUMER_HELPER_REGION"
ENV_SOURCE_PROFILE = "ASSUMER_HELPER_SOURCE_PROFILE"
# Only with ecr-push --no-cache: the token itself, in the engine's environment (never argv or a file).
ENV_USERNAME = "ASSUMER_HELPER_USERNAME"
ENV_SECRET = "ASSUMER_HELPER_SECRET"


class NotFound(AssumerError):
    """The helper does not serve this registry."""


class Route(NamedTuple):
    """Which profile (and region override) serves a registry."""

    profile: str
    region: str | None = None
    source_profile: str | None = None  # with a role ARN as the profile


def mapping_file() -> Path:
    return paths.config_dir() / "registries.json"


def load_mappings(path: Path | None = None) -> dict[str, Route]:
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


def save_mapping(host: str, entry: Route, path: Path | None = None) -> Path:
    """Record that ``entry`` serves ``host`` (written atomically, 0600; other entries kept)."""
    path = path or mapping_file()
    current = load_mappings(path)
    current[host] = entry
    body = {"registries": {h: {k: v for k, v in m._asdict().items() if v is not None} for h, m in sorted(current.items())}}
    paths.private_dir(path.parent)
    paths.write_private_file(path, json.dumps(body, indent=1) + "\n")
    return path


def lookup(host: str, environ: Mapping[str, str]) -> Route | None:
    """The profile serving ``host``: the one-push environment first, then the configured map."""
    if environ.get(ENV_REGISTRY) and strip_url(environ[ENV_REGISTRY]) == host and environ.get(ENV_PROFILE):
        return Route(environ[ENV_PROFILE], environ.get(ENV_REGION) or None, environ.get(ENV_SOURCE_PROFILE) or None)
    return load_mappings().get(host)


TokenSource = Callable[[str, Route], tuple[str, str]]


def mint(host: str, entry: Route) -> tuple[str, str]:
    """(username, password) for ``host``: the cached token, else one minted with the profile's session.

    The cache is read before any session is looked for, so a hit costs one
    keyring read and no AWS call (and never an MFA prompt).
    """
    from assumer import ecr, session

    options = session.SessionOptions(region=entry.region, source_profile=entry.source_profile)
    cache = session.session_cache(options)
    region = session.resolve(entry.profile, options).region
    hit = ecr.cached_token(cache, ecr.token_cache_key(host, entry.profile, region))
    if hit is None:
        found = session.get_session(entry.profile, options)
        hit = ecr.token_for(found, host, cache=cache).token
    return hit.username, hit.password


def push_environment(result: Any, session: Any, *, source_profile: str | None, hand_over: bool) -> dict[str, str]:
    """What ``ecr-push`` puts in the engine's environment so the helper serves that one push.

    The helper normally reads the token from the keyring cache. ``hand_over``:
    the token is not there (``--no-cache``, or stale on arrival), so it travels in
    the engine's environment instead, which only this user can read (never argv,
    never a file).
    """
    env = {ENV_REGISTRY: result.host, ENV_PROFILE: session.profile, ENV_REGION: session.region or ""}
    if source_profile:
        env[ENV_SOURCE_PROFILE] = source_profile
    if hand_over:
        env[ENV_USERNAME] = result.token.username
        env[ENV_SECRET] = result.token.password
    return env


def credentials_for(server_url: str, environ: Mapping[str, str], *, source: TokenSource = mint) -> dict[str, str]:
    """The ``get`` answer for ``server_url``; NotFound for a registry this helper does not serve."""
    host = strip_url(server_url)
    if not host:
        raise NotFound(NOT_FOUND)
    if environ.get(ENV_SECRET) and environ.get(ENV_REGISTRY) and strip_url(environ[ENV_REGISTRY]) == host:
        username, secret = environ.get(ENV_USERNAME) or "AWS", environ[ENV_SECRET]
    else:
        entry = lookup(host, environ)
        if entry is None:
            raise NotFound(NOT_FOUND)
        username, secret = source(host, entry)
    return {"ServerURL": server_url.strip(), "Username": username, "Secret": secret}


def handle(action: str, stdin: TextIO, stdout: TextIO, stderr: TextIO,
           environ: Mapping[str, str] = os.environ, *, source: TokenSource = mint) -> int:
    """Run one protocol action; returns the exit status (errors on stdout and stderr, status 1)."""
    try:
        if action == "get":
            from assumer import logs

            answer = credentials_for(stdin.read(), environ, source=source)
            logs.register_secret(answer["Secret"])
            stdout.write(json.dumps(answer) + "\n")
        elif action in ("store", "erase"):
            stdin.read()  # minted on demand, never stored: nothing to keep or forget
        elif action == "list":
            stdout.write(json.dumps({host: "AWS" for host in load_mappings()}) + "\n")
        elif action == "version":
            stdout.write(f"docker-credential-assumer (assumer) {__version__}\n")
        else:
            stdout.write(f"unknown action {action!r}: expected get, store, erase, list or version\n")
            return 1
    except NotFound as exc:
        stdout.write(f"{exc.message}\n")
        return 1
    except AssumerError as exc:
        from assumer import logs

        line = logs.redact(f"docker-credential-assumer: {exc}")
        stdout.write(line + "\n")
        stderr.write(line + "\n")
        return 1
    except KeyboardInterrupt:
        stdout.write("docker-credential-assumer: interrupted\n")
        return 130
    except Exception as exc:  # a bug: one redacted line where the engine shows it, not a raw traceback
        from assumer import logs

        line = logs.redact(f"docker-credential-assumer: internal error: {type(exc).__name__}: {exc} (a bug)")
        stdout.write(line + "\n")
        stderr.write(line + "\n")
        return 1
    stdout.flush()
    return 0


def main(argv: list[str] | None = None) -> int:
    """``docker-credential-assumer ACTION`` (also --version/--help)."""
    args = sys.argv[1:] if argv is None else argv
    if not args or args[0] in ("-h", "--help"):
        sys.stdout.write("usage: docker-credential-assumer get|store|erase|list|version\n"
                         "Docker credential helper for registries set up with 'assumer ecr-helper configure'.\n")
        return 0 if args else 1
    if args[0] in ("-v", "--version"):
        args = ["version"]
    return handle(args[0], sys.stdin, sys.stdout, sys.stderr)


# -- set-up ------------------------------------------------------------------------


def add_cred_helper(config_path: Path, host: str) -> bool:
    """Name the helper for ``host`` in a Docker config, keeping everything else; atomic.

    Returns True when a stored login (``auths[host]``) was removed: the helper
    replaces it, and it held a base64 password on disk.
    """
    from assumer.engine import HELPER_NAME, read_docker_config

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

    from assumer.engine import HELPER, helper_directory

    found = shutil.which(HELPER, path=environ.get("PATH", os.defpath))
    if found:
        return found
    try:
        where = helper_directory(environ)
    except EngineError:
        where = None
    hint = f"add {where} to PATH" if where else "reinstall assumer, which ships it"
    raise EngineError(f"{HELPER} is not on PATH, so the engine could not run it", hint=hint)


def configured(profile: str, host: str, environ: Mapping[str, str] = os.environ, *,
               region: str | None = None, source_profile: str | None = None) -> dict[str, Any]:
    """``ecr-helper configure``: check the helper, record the mapping, add the credHelpers entry."""
    from assumer.engine import user_docker_dir

    helper = check_on_path(environ)
    mapping = save_mapping(host, Route(profile, region, source_profile))
    config = user_docker_dir(environ) / "config.json"
    removed = add_cred_helper(config, host)
    return {"helper": helper, "mapping": mapping, "config": config, "removed_login": removed}
