"""ECR commands: ecr-login, ecr-push, ecr-helper configure, policy.

Wiring only: parse, call :mod:`assumer.ecr`, render. The credential helper
itself (``docker-credential-assumer``) starts without click, from
:func:`assumer.ecr.helper.console_main`.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

import click

from assumer import ui
from assumer.cli.common import (
    options_from,
    profile_argument,
    session_for,
    session_options,
    source_options,
    write_stdout,
)
from assumer.ecr.policy import DOCUMENTS
from assumer.errors import AssumerError, ConfigError, EngineError

if TYPE_CHECKING:
    from typing_extensions import Unpack

    from assumer.cli.common import SessionKwargs
    from assumer.core.session import Session, SessionOptions
    from assumer.ecr.engine import Engine
    from assumer.ecr.tokens import Where

F = TypeVar("F", bound=Callable[..., object])

ENGINES = ("auto", "docker", "podman")


def engine_option(command: F) -> F:
    return click.option("--engine", "engine_choice", type=click.Choice(ENGINES), default="auto", show_default=True,
                        help="Container engine to run (auto: docker, else podman).")(command)


def registry_option(command: F) -> F:
    command = click.option("--allow-non-ecr-registry", "allow_non_ecr", is_flag=True,
                           help="Send the ECR token to a --registry host that is not ECR (a mirror, an emulator, "
                                "a test registry you trust); refused otherwise.")(command)
    return click.option("--registry", metavar="HOST[:PORT]",
                        help="ECR registry host (default: the ECR registry of the role's account and the "
                             "profile's region).")(command)


def warn_non_ecr(where: Where, profile: str) -> None:
    """Said once per command that was given --allow-non-ecr-registry for a host that is not ECR."""
    if not where.ecr:
        ui.warn(f"{where.host} is not an ECR registry: it gets the ECR token of profile {profile!r}, valid for "
                "every repository the role can reach (--allow-non-ecr-registry)")


def checked_registry(profile: str, options: SessionOptions, registry: str | None, allow_non_ecr: bool) -> None:
    """Refuse a host that gets no token before any AWS call (the profile is resolved, nothing fetched);
    warn once when --allow-non-ecr-registry sends the token to a host that is not ECR."""
    from assumer.core.profiles import RoleSpec
    from assumer.core.session import resolve
    from assumer.ecr import tokens

    if not registry:
        return
    target = resolve(profile, options)
    role_arn = target.role_arn if isinstance(target, RoleSpec) else None
    warn_non_ecr(tokens.locate(registry, profile=profile, role_arn=role_arn, region=target.region,
                               allow_non_ecr=allow_non_ecr), profile)


@click.command("ecr-login")
@profile_argument()
@engine_option
@registry_option
@click.option("--print-password", is_flag=True,
              help="Print only the password (like 'aws ecr get-login-password'); run no engine.")
@session_options
def ecr_login_command(profile: str, registry: str | None, allow_non_ecr: bool, engine_choice: str,
                      print_password: bool, **kwargs: Unpack[SessionKwargs]) -> None:
    """Log the container engine in to PROFILE's ECR registry (password on the engine's stdin)."""
    from assumer.core.session import session_cache
    from assumer.credentials import utcnow
    from assumer.ecr import engine, tokens

    options = options_from(kwargs)
    with engine.stop_on_signals():
        runner = None if print_password else engine.find_engine(engine_choice)
        checked_registry(profile, options, registry, allow_non_ecr)
        session = session_for(profile, options)
        result = tokens.token_for(session, registry, cache=session_cache(options), refresh=options.refresh,
                                  allow_non_ecr=allow_non_ecr)
        if runner is None:
            write_stdout(result.token.password + "\n")
            return
        engine.login(runner, result.host, result.token.username, result.token.password, env=dict(os.environ))
        minutes = int((result.token.expires_at - utcnow()).total_seconds() // 60)
        valid = f"; the login is valid for {minutes} min" if minutes > 0 else ""
        ui.info(f"logged {runner.name} in to {result.host} as profile {profile!r}{valid}")


@click.command("ecr-push")
@profile_argument()
@click.argument("image")
@click.option("--repository", metavar="NAME", help="Repository (default: IMAGE's name without its registry).")
@click.option("--tag", metavar="TAG", help="Tag to push (default: IMAGE's tag, else latest).")
@click.option("--create-repository", is_flag=True, help="Create the repository when it does not exist.")
@engine_option
@registry_option
@session_options
def ecr_push_command(profile: str, image: str, repository: str | None, tag: str | None, create_repository: bool,
                     registry: str | None, allow_non_ecr: bool, engine_choice: str,
                     **kwargs: Unpack[SessionKwargs]) -> None:
    """Tag IMAGE and push it to PROFILE's ECR registry; prints HOST/REPO:TAG@sha256:... on stdout.

    The registry login is scoped to this one push: nothing is written to your
    Docker config and no password file is created.
    """
    from assumer.core.session import session_cache
    from assumer.ecr import engine, helper, registry as registries, repositories, tokens

    options = options_from(kwargs)
    with engine.stop_on_signals():
        runner = engine.find_engine(engine_choice)
        checked_registry(profile, options, registry, allow_non_ecr)
        session = session_for(profile, options)
        result = tokens.token_for(session, registry, cache=session_cache(options), refresh=options.refresh,
                                  allow_non_ecr=allow_non_ecr)
        destination = registries.image_destination(image, result.host, repository=repository, tag=tag)
        # Checked up front only when it may have to be created: a warm push imports no boto3.
        if create_repository and repositories.ensure_repository(session, destination.repository, host=result.host):
            ui.info(f"created repository {destination.repository!r}")
        reference = destination.reference()
        engine.tag(runner, image, reference, env=dict(os.environ))
        helper_env = helper.one_push_environment(result, session, source_profile=options.source_profile,
                                                 hand_over=options.no_cache or not result.stored,
                                                 duration=options.duration, allow_non_ecr=allow_non_ecr)
        ui.info(f"pushing {image} to {reference} with {runner.name}")
        digest = _scoped_push(runner, reference, helper_env, session=session, repository=destination.repository,
                              host=result.host, created_if_missing=create_repository)
        write_stdout(f"{reference}@{digest}\n")


def _scoped_push(runner: Engine, reference: str, helper_env: dict[str, str], *, session: Session, repository: str,
                 host: str, created_if_missing: bool) -> str:
    """Push through a private temporary config; a refused push is explained when the repository is missing."""
    from assumer.ecr import engine, repositories

    try:
        with engine.private_docker_config(runner, host, helper_env) as (env, extra):
            return engine.push(runner, reference, env=env, extra=extra)
    except EngineError as failure:
        if created_if_missing:
            raise
        # The engines' words for a missing repository vary; ECR's API says it plainly.
        try:
            missing = repositories.repository_exists(session, repository, host=host) is False
        except AssumerError:
            missing = False  # cannot tell: the engine's own error stands
        if missing:
            raise repositories.missing_repository(repository, host, failure.message) from None
        raise


@click.group("ecr-helper")
def ecr_helper_group() -> None:
    """Set up docker-credential-assumer, the Docker credential helper."""


@ecr_helper_group.command("configure")
@profile_argument()
@source_options
@registry_option
def ecr_helper_configure_command(profile: str, registry: str | None, allow_non_ecr: bool, region: str | None,
                                 source_profile: str | None) -> None:
    """Serve REGISTRY from PROFILE through docker-credential-assumer (adds the credHelpers entry)."""
    from assumer.core.profiles import RoleSpec
    from assumer.core.session import SessionOptions, resolve
    from assumer.ecr import routes, tokens

    options = SessionOptions(region=region, source_profile=source_profile)
    target = resolve(profile, options)  # no network: a profile typo fails here
    role_arn = target.role_arn if isinstance(target, RoleSpec) else None
    where = tokens.locate(registry, profile=profile, role_arn=role_arn, region=target.region,
                          allow_non_ecr=allow_non_ecr)
    if not where.host:
        raise click.UsageError(f"profile {profile!r} has no role, so its registry is unknown: pass --registry")
    warn_non_ecr(where, profile)
    done = routes.configure(profile, where.host, dict(os.environ), region=region, source_profile=source_profile,
                            allow_non_ecr_registry=not where.ecr)
    ui.info(f"{where.host} -> profile {profile!r} (recorded in {done.mapping})")
    ui.info(f"added credHelpers {{\"{where.host}\": \"assumer\"}} to {done.config}")
    for path in ([done.config] if done.removed_login else []) + done.removed_from:
        ui.info(f"removed the stored login for {where.host} from {path}: the helper replaces it")
    for path, reason in done.left:
        ui.warn(f"left {path} as it is ({reason}): a login stored there for {where.host} is used before the helper")


@click.command("policy")
@click.option("--account", metavar="ID", help="AWS account id (default: an example id, with a warning).")
@click.option("--role", default="R", show_default=True, help="The role that pushes.")
@click.option("--user", default="U", show_default=True, help="The IAM user that assumes the role.")
@click.option("--repository", "repositories", multiple=True, metavar="NAME",
              help="Scope the push statement to this repository (repeatable).")
@click.option("--region", default="*", show_default=True, help="Region in the repository ARNs.")
@click.option("--allow-create-repository", is_flag=True, help="Add ecr:CreateRepository.")
@click.option("--allow-key-rotation", is_flag=True,
              help="Let the user rotate its own access keys (assumer rotate): iam:ListAccessKeys, "
                   "iam:CreateAccessKey, iam:DeleteAccessKey on itself.")
@click.option("--document", type=click.Choice(DOCUMENTS),
              help="Print only this document, as plain JSON (for --policy-document).")
def policy_command(account: str | None, role: str, user: str, repositories: tuple[str, ...], region: str,
                   allow_create_repository: bool, allow_key_rotation: bool, document: str | None) -> None:
    """Print the IAM documents for the push setup: R's push policy, R's trust policy, U's policy."""
    import json

    from assumer.ecr import policy

    if account is not None and not (len(account) == 12 and account.isascii() and account.isdigit()):
        raise ConfigError(f"--account {account!r} is not an AWS account id", hint="give the 12 digits")
    if account is None:
        ui.warn(f"no --account given: using the example account {policy.EXAMPLE_ACCOUNT}")
    setup = policy.Setup(account=account or policy.EXAMPLE_ACCOUNT, role=role, user=user,
                         repositories=repositories, region=region, allow_create_repository=allow_create_repository,
                         allow_key_rotation=allow_key_rotation)
    if document:
        write_stdout(json.dumps(policy.document(setup, document), indent=2) + "\n")
    else:
        write_stdout(policy.render_all(setup))
    if document == "push" or document is None:
        ui.info(f"note: {policy.TOKEN_NOTE}")
