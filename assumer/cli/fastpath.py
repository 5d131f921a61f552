"""The cache-hit fast path of ``assumer env PROFILE`` and ``assumer credential-process PROFILE``.

These two run on every prompt refresh and every SDK credential refresh, so a
cache hit has to cost little more than Python's start-up and one keyring read.
Importing click alone measured about 0.3x of the whole ``import keyring;
keyring.get_password`` baseline on this machine, so the plainest forms of these
two commands (no option but ``--shell``) are recognised here by hand before
click is imported; everything else, and every miss, goes to the full command
line in :mod:`assumer.cli.app`, which then does the whole job itself (reading the
cache again, and reporting any error properly). The fast path never writes,
never prompts and never reports an error: it answers or it declines.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from typing import TextIO


def parse(argv: list[str]) -> tuple[str, str, str | None] | None:
    """(command, profile, shell) for the forms served here, else None.

    Served: ``env PROFILE``, ``env PROFILE --shell S`` (either order, ``--shell=S``
    too) and ``credential-process PROFILE``.
    """
    if not argv or argv[0] not in ("env", "credential-process"):
        return None
    command, rest = argv[0], argv[1:]
    shell = None
    positional: list[str] = []
    index = 0
    while index < len(rest):
        word = rest[index]
        if command == "env" and word == "--shell" and index + 1 < len(rest):
            shell = rest[index + 1]
            index += 2
            continue
        if command == "env" and word.startswith("--shell="):
            shell = word[len("--shell="):]
        elif word.startswith("-") or positional:
            return None
        else:
            positional.append(word)
        index += 1
    if len(positional) != 1:
        return None
    if shell is not None:
        from assumer.cli.render import SHELLS  # here: without --shell, render is imported after the reader opens

        if shell not in SHELLS:
            return None
    return command, positional[0], shell


def serve(argv: list[str], *, environ: Mapping[str, str] | None = None, out: TextIO | None = None) -> bool:
    """Answer from the cache if this invocation can be; True when it was answered."""
    parsed = parse(argv)
    if parsed is None:
        return False
    command, profile, shell = parsed
    env = os.environ if environ is None else environ
    try:
        text = _cached_output(command, profile, shell, env)
    except Exception:  # noqa: BLE001 - declining is always safe: the full path redoes the work and reports errors
        return False
    if text is None:
        return False
    (out or sys.stdout).write(text)
    return True


def _cached_output(command: str, profile: str, shell: str | None, env: Mapping[str, str]) -> str | None:
    from assumer.store import secretservice

    # First: the Secret Service agrees the session's key while the chain and its cache key
    # are worked out below (imports included), instead of after.
    try:
        reader = secretservice.open_reader(environ=env)
    except secretservice.Fallback:
        return None
    with reader:
        from assumer.core.cachekey import session_key
        from assumer.core.profiles import AwsConfig
        from assumer.core.target import SessionOptions, resolve
        from assumer.store.backends import SESSION_SERVICE

        config = AwsConfig.load(env)
        target = resolve(profile, SessionOptions(), config=config, environ=env)
        key = session_key(target, environ=env, config=config)
        try:
            stored = reader.get_password(SESSION_SERVICE, key)
        except secretservice.Fallback:
            return None
    if stored is None:
        return None
    from assumer.cli import render
    from assumer.credentials import Credentials, min_ttl, utcnow

    credentials = Credentials.from_json(stored)
    if not credentials.is_fresh(utcnow(), min_ttl()):
        return None
    if command == "credential-process":
        return render.credential_process_json(credentials)
    region = target.region
    variables = render.session_variables(credentials, profile, region, getattr(target, "role_arn", None))
    return render.render(variables, render.variables_to_unset(variables), shell or render.default_shell(env))
