"""``docker-credential-assumer``: the Docker credential-helper protocol.

Docker, podman, skopeo and buildah run ``docker-credential-<name> ACTION`` with
the server URL (or a JSON object for ``store``) on stdin. ``get`` answers with
``{"ServerURL", "Username", "Secret"}`` minted from the profile that serves the
registry: the one ``ecr-push`` names in the engine's environment for a single
push, else the one ``assumer ecr-helper configure`` recorded. Logins come from
ECR tokens (cached in the keyring, minted when missing), never from what the
engine hands over, so ``store`` and ``erase`` succeed without keeping anything (a
``docker login`` through the helper never breaks). Failures go to stdout (where
the engine looks for them) and stderr, with exit status 1.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, TextIO

from assumer import __version__, fastjson
from assumer.ecr.registry import find_registry, is_public_ecr, strip_url
from assumer.ecr.routes import Route, load_routes
from assumer.errors import AssumerError, ConfigError

if TYPE_CHECKING:
    from assumer.core.session import Session
    from assumer.ecr.tokens import TokenResult

# The protocol's own words (docker-credential-helpers, credentials/error.go), which engines match.
NOT_FOUND = "credentials not found in native keychain"
MISSING_URL = "no credentials server URL"
MISSING_USERNAME = "no credentials username"
# Set by ecr-push in the engine's environment: which profile serves which registry for that push.
ENV_REGISTRY = "ASSUMER_HELPER_REGISTRY"
ENV_PROFILE = "ASSUMER_HELPER_PROFILE"
ENV_REGION = "ASSUMER_HELPER_REGION"
ENV_SOURCE_PROFILE = "ASSUMER_HELPER_SOURCE_PROFILE"
ENV_DURATION = "ASSUMER_HELPER_DURATION"
ENV_ALLOW_NON_ECR = "ASSUMER_HELPER_ALLOW_NON_ECR_REGISTRY"  # ecr-push --allow-non-ecr-registry
# Only with ecr-push --no-cache: the token itself, in the engine's environment (never argv or a file).
ENV_USERNAME = "ASSUMER_HELPER_USERNAME"
ENV_SECRET = "ASSUMER_HELPER_SECRET"  # noqa: S105 - the variable's name, not a secret


class NotFound(AssumerError):
    """The helper does not serve this registry."""


class BadInput(AssumerError):
    """Input the protocol rejects; the message is the protocol's own (stdout only, exit status 1)."""


def lookup(host: str, environ: Mapping[str, str]) -> Route | None:
    """The profile serving ``host``: the one-push environment first, then the configured map.

    A mapped host that is not ECR is served only when the map records the
    user's opt-in (``--allow-non-ecr-registry``); a mapping written without it
    (by assumer 0.x, which asked for none) is refused.
    """
    if environ.get(ENV_REGISTRY) and strip_url(environ[ENV_REGISTRY]) == host and environ.get(ENV_PROFILE):
        duration = environ.get(ENV_DURATION, "")
        return Route(environ[ENV_PROFILE], environ.get(ENV_REGION) or None, environ.get(ENV_SOURCE_PROFILE) or None,
                     environ.get(ENV_ALLOW_NON_ECR) == "1", int(duration) if duration.isdigit() else None)
    entry = load_routes().get(host)
    if entry is not None and not entry.allow_non_ecr_registry and find_registry(host) is None:
        raise ConfigError(f"{host} is not an ECR registry, so it gets no ECR token",
                          hint=f"to send it the token of profile {entry.profile!r} anyway, run 'assumer "
                               f"ecr-helper configure {entry.profile} --registry {host} --allow-non-ecr-registry'")
    return entry


TokenSource = Callable[[str, Route], tuple[str, str]]


def mint(host: str, entry: Route) -> tuple[str, str]:
    """(username, password) for ``host``: the cached token, else one minted with the profile's session.

    The cache is read before any session is looked for, so a hit costs one
    keyring read and no AWS call (and never an MFA prompt). A hit is read by the
    lean Secret Service reader alone; the session cache (store, index, keyring) is
    built only when that is not a usable token.
    """
    from assumer.store import secretservice

    # First: the Secret Service agrees the session's key while the token's cache key is worked out.
    try:
        reader: secretservice.Reader | None = secretservice.open_reader()
    except secretservice.Fallback:
        reader = None
    try:
        from assumer.core.profiles import AwsConfig
        from assumer.core.target import SessionOptions, resolve
        from assumer.credentials import min_ttl
        from assumer.ecr import tokens

        options = SessionOptions(region=entry.region, source_profile=entry.source_profile, duration=entry.duration)
        min_ttl()  # warns of a bad ASSUMER_MIN_TTL here, where the session cache was made before (ui says it once)
        config = AwsConfig.load(os.environ)
        target = resolve(entry.profile, options, config=config)
        key = tokens.token_cache_key(host, tokens.session_key_of(target, options, config=config), target.region)
        hit = tokens.lean_cached_token(key, reader) if reader is not None else None
    finally:
        if reader is not None:
            reader.close()
    if hit is None:
        from assumer.core import session

        cache = session.session_cache(options)
        hit = tokens.cached_token(cache, key)
        if hit is None:
            found = session.get_session(entry.profile, options, config=config)
            hit = tokens.token_for(found, host, cache=cache, allow_non_ecr=entry.allow_non_ecr_registry).token
    return hit.username, hit.password


def one_push_environment(result: TokenResult, session: Session, *, source_profile: str | None,
                         hand_over: bool, duration: int | None = None,
                         allow_non_ecr: bool = False) -> dict[str, str]:
    """What ``ecr-push`` puts in the engine's environment so the helper serves that one push.

    The helper normally reads the token from the keyring cache. ``hand_over``:
    the token is not there (``--no-cache``, or stale on arrival), so it travels in
    the engine's environment instead, which only this user can read (never argv,
    never a file).
    """
    env = {ENV_REGISTRY: result.host, ENV_PROFILE: session.profile, ENV_REGION: session.region or ""}
    if source_profile:
        env[ENV_SOURCE_PROFILE] = source_profile
    if duration:
        env[ENV_DURATION] = str(duration)
    if allow_non_ecr:
        env[ENV_ALLOW_NON_ECR] = "1"
    if hand_over:
        env[ENV_USERNAME] = result.token.username
        env[ENV_SECRET] = result.token.password
    return env


def credentials_for(server_url: str, environ: Mapping[str, str], *, source: TokenSource = mint) -> dict[str, str]:
    """The ``get`` answer for ``server_url``; NotFound for a registry this helper does not serve.

    ECR Public is never served (its anonymous pulls need no login, and its
    tokens come from another API): "credentials not found", so the engine pulls
    anonymously.
    """
    if not server_url.strip():
        raise BadInput(MISSING_URL)
    host = strip_url(server_url)
    found = find_registry(host)
    host = found.host if found is not None else host  # an explicit :443 names the same ECR registry
    if not host or is_public_ecr(host):
        raise NotFound(NOT_FOUND)
    if environ.get(ENV_SECRET) and environ.get(ENV_REGISTRY) and strip_url(environ[ENV_REGISTRY]) == host:
        username, secret = environ.get(ENV_USERNAME) or "AWS", environ[ENV_SECRET]
    else:
        entry = lookup(host, environ)
        if entry is None:
            raise NotFound(NOT_FOUND)
        username, secret = source(host, entry)
    return {"ServerURL": server_url.strip(), "Username": username, "Secret": secret}


def check_store(text: str) -> None:
    """Check ``store``'s input as the protocol's own helpers do: a JSON object with ServerURL and Username.

    Field names match case-insensitively, as Go's JSON decoding does.
    """
    import json  # not on a cache hit

    try:
        data = json.loads(text)
    except ValueError as exc:
        raise BadInput(f"the credentials to store are not JSON: {exc}") from None
    if not isinstance(data, dict):
        raise BadInput("the credentials to store are not a JSON object")
    fields = {str(name).lower(): value for name, value in data.items()}
    if not fields.get("serverurl"):
        raise BadInput(MISSING_URL)
    if not fields.get("username"):
        raise BadInput(MISSING_USERNAME)


def handle(action: str, stdin: TextIO, stdout: TextIO, stderr: TextIO,
           environ: Mapping[str, str] = os.environ, *, source: TokenSource = mint) -> int:
    """Run one protocol action; returns the exit status.

    0 on success. 1 with the message on stdout, where the engine looks for it:
    the protocol's not-found answer and an unknown action there only, a failure
    on stderr too. 130 when interrupted.
    """
    try:
        if action == "get":
            from assumer import logs

            answer = credentials_for(stdin.read(), environ, source=source)
            logs.register_secret(answer["Secret"])
            stdout.write(fastjson.dumps(answer) + "\n")
        elif action == "store":
            check_store(stdin.read())  # minted on demand, never stored: nothing to keep
        elif action == "erase":
            if not stdin.read().strip():
                raise BadInput(MISSING_URL)
        elif action == "list":
            stdout.write(fastjson.dumps(dict.fromkeys(load_routes(), "AWS")) + "\n")
        elif action == "version":
            stdout.write(f"docker-credential-assumer (assumer) {__version__}\n")
        else:
            stdout.write(f"unknown action {action!r}: expected get, store, erase, list or version\n")
            return 1
    except (NotFound, BadInput) as exc:
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
    except Exception as exc:  # noqa: BLE001 - a bug: one redacted line where the engine shows it, not a traceback
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


def console_main() -> None:
    """Entry point of the ``docker-credential-assumer`` console script (no click: it must start fast)."""
    from assumer.signals import interrupt_on_sigterm

    interrupt_on_sigterm()
    sys.exit(main())
