"""ECR commands: ecr-login, ecr-push, ecr-helper configure, policy; and the helper's entry point.

Wiring only: parse, call assumer.ecr / engine / credhelper / policy, render.
assumer.cli imports this module at load time, so it is imported lazily here; and
click itself is imported only by ``register``, because this module is also the
entry point of ``docker-credential-assumer``, which must start fast.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import click

ENGINES = ("auto", "docker", "podman")


def _engine_option(command: Any) -> Any:
    import click

    return click.option("--engine", "engine_choice", type=click.Choice(ENGINES), default="auto", show_default=True,
                        help="Container engine to run (auto: docker, else podman).")(command)


def _registry_option(command: Any) -> Any:
    import click

    return click.option("--registry", metavar="HOST[:PORT]",
                        help="Registry host (default: the ECR registry of the role's account and the profile's "
                             "region); any host is accepted, for mirrors and tests.")(command)


def _token_cache(kwargs: dict[str, Any]) -> Any:
    from assumer.session import SessionOptions, session_cache

    return session_cache(SessionOptions(no_cache=bool(kwargs.get("no_cache"))))


def ecr_login(profile: str, registry: str | None, engine_choice: str, print_password: bool, **kwargs: Any) -> None:
    """Log the container engine in to PROFILE's ECR registry (password on the engine's stdin)."""
    from assumer import cli, ecr, engine, ui

    with engine.stop_on_signals():
        runner = None if print_password else engine.find_engine(engine_choice)
        cache, refresh = _token_cache(kwargs), bool(kwargs.get("refresh"))
        session = cli.get_session(profile, kwargs)
        result = ecr.token_for(session, registry, cache=cache, refresh=refresh)
        if runner is None:
            _out(result.token.password + "\n")
            return
        engine.login(runner, result.host, result.token.username, result.token.password, env=_environ())
        minutes = int((result.token.expires_at - _now()).total_seconds() // 60)
        valid = f"; the login is valid for {minutes} min" if minutes > 0 else ""
        ui.info(f"logged {runner.name} in to {result.host} as profile {profile!r}{valid}")


def ecr_push(profile: str, image: str, repository: str | None, tag: str | None, create_repository: bool,
             registry: str | None, engine_choice: str, **kwargs: Any) -> None:
    """Tag IMAGE and push it to PROFILE's ECR registry; prints HOST/REPO:TAG@sha256:... on stdout.

    The registry login is scoped to this one push: nothing is written to your
    Docker config and no password file is created.
    """
    from assumer import cli, credhelper, ecr, engine, ui

    with engine.stop_on_signals():
        runner = engine.find_engine(engine_choice)
        source_profile, no_cache = kwargs.get("source_profile"), bool(kwargs.get("no_cache"))
        cache, refresh = _token_cache(kwargs), bool(kwargs.get("refresh"))
        session = cli.get_session(profile, kwargs)
        result = ecr.token_for(session, registry, cache=cache, refresh=refresh)
        target = ecr.push_target(image, result.host, repository=repository, tag=tag)
        # Checked up front only when it may have to be created: a warm push imports no boto3.
        if create_repository and ecr.ensure_repository(session, target.repository, host=result.host):
            ui.info(f"created repository {target.repository!r}")
        reference = target.reference()
        engine.tag(runner, image, reference, env=_environ())
        helper_env = credhelper.push_environment(result, session, source_profile=source_profile,
                                                 hand_over=no_cache or not result.stored)
        ui.info(f"pushing {image} to {reference} with {runner.name}")
        digest = _scoped_push(runner, reference, helper_env, session=session, repository=target.repository,
                              host=result.host, created_if_missing=create_repository)
        _out(f"{reference}@{digest}\n")


def _scoped_push(runner: Any, reference: str, helper_env: dict[str, str], *, session: Any, repository: str,
                 host: str, created_if_missing: bool) -> str:
    """Push through a private temporary config; a refused push is explained when the repository is missing."""
    from assumer import ecr, engine
    from assumer.errors import AssumerError, EngineError

    try:
        with engine.push_environment(runner, host, helper_env) as (env, extra):
            return engine.push(runner, reference, env=env, extra=extra)
    except EngineError as failure:
        if created_if_missing:
            raise
        # The engines' words for a missing repository vary; ECR's API says it plainly.
        try:
            missing = ecr.repository_exists(session, repository, host=host) is False
        except AssumerError:
            missing = False  # cannot tell: the engine's own error stands
        if missing:
            raise ecr.missing_repository(repository, host, failure.message) from None
        raise


def ecr_helper_configure(profile: str, registry: str | None, **kwargs: Any) -> None:
    """Serve REGISTRY from PROFILE through docker-credential-assumer (adds the credHelpers entry)."""
    import click

    from assumer import credhelper, ecr, ui
    from assumer.session import SessionOptions, resolve

    region = kwargs.get("region")
    options = SessionOptions(region=region, source_profile=kwargs.get("source_profile"))
    target = resolve(profile, options)  # no network: a profile typo fails here
    where = ecr.locate(registry, profile=profile, role_arn=getattr(target, "role_arn", None), region=target.region)
    if not where.host:
        raise click.UsageError(f"profile {profile!r} has no role, so its registry is unknown: pass --registry")
    done = credhelper.configured(profile, where.host, _environ(), region=region,
                                 source_profile=options.source_profile)
    ui.info(f"{where.host} -> profile {profile!r} (recorded in {done['mapping']})")
    ui.info(f"added credHelpers {{\"{where.host}\": \"assumer\"}} to {done['config']}")
    if done["removed_login"]:
        ui.info(f"removed the stored login for {where.host} from {done['config']}: the helper replaces it")


def policy_command(account: str | None, role: str, user: str, repositories: tuple[str, ...], region: str,
                   allow_create_repository: bool, document: str | None) -> None:
    """Print the IAM documents for the push setup: R's push policy, R's trust policy, U's policy."""
    import json

    from assumer import policy, ui
    from assumer.errors import ConfigError

    if account is not None and not (len(account) == 12 and account.isascii() and account.isdigit()):
        raise ConfigError(f"--account {account!r} is not an AWS account id", hint="give the 12 digits")
    if account is None:
        ui.warn(f"no --account given: using the example account {policy.EXAMPLE_ACCOUNT}")
    setup = policy.Setup(account=account or policy.EXAMPLE_ACCOUNT, role=role, user=user,
                         repositories=repositories, region=region, allow_create_repository=allow_create_repository)
    if document:
        _out(json.dumps(policy.document(setup, document), indent=2) + "\n")
    else:
        _out(policy.render_all(setup))
    if document == "push" or document is None:
        ui.info(f"note: {policy.TOKEN_NOTE}")


def _out(text: str) -> None:
    """What is meant to be consumed (a password, a reference, JSON) goes to stdout, nothing else."""
    sys.stdout.write(text)
    sys.stdout.flush()


def _environ() -> dict[str, str]:
    import os

    return dict(os.environ)


def _now() -> Any:
    from assumer.credentials import utcnow

    return utcnow()


def register(group: click.Group) -> None:
    """Add the ECR commands to the ``assumer`` group."""
    import click

    from assumer import policy
    from assumer.cli import complete_profiles, session_options

    profile_arg = click.argument("profile", shell_complete=complete_profiles)
    login = ecr_login
    login = session_options(login)
    login = click.option("--print-password", is_flag=True,
                         help="Print only the password (like 'aws ecr get-login-password'); run no engine.")(login)
    login = _engine_option(_registry_option(login))
    group.command("ecr-login")(profile_arg(login))

    push = session_options(ecr_push)
    push = _engine_option(_registry_option(push))
    push = click.option("--create-repository", is_flag=True, help="Create the repository when it does not exist.")(push)
    push = click.option("--tag", metavar="TAG", help="Tag to push (default: IMAGE's tag, else latest).")(push)
    push = click.option("--repository", metavar="NAME", help="Repository (default: IMAGE's name without its registry).")(push)
    push = click.argument("image")(push)
    group.command("ecr-push")(profile_arg(push))

    @group.group("ecr-helper")
    def helper_group() -> None:
        """Set up docker-credential-assumer, the Docker credential helper."""

    configure = _registry_option(ecr_helper_configure)
    configure = click.option("--source-profile", metavar="PROFILE", help="With a role ARN as PROFILE: whose credentials assume it.")(configure)
    configure = click.option("--region", metavar="REGION", help="Region for the session (default: the profile's).")(configure)
    helper_group.command("configure")(profile_arg(configure))

    command = policy_command
    command = click.option("--document", type=click.Choice(policy.DOCUMENTS),
                           help="Print only this document, as plain JSON (for --policy-document).")(command)
    command = click.option("--allow-create-repository", is_flag=True, help="Add ecr:CreateRepository.")(command)
    command = click.option("--region", default="*", show_default=True, help="Region in the repository ARNs.")(command)
    command = click.option("--repository", "repositories", multiple=True, metavar="NAME",
                           help="Scope the push statement to this repository (repeatable).")(command)
    command = click.option("--user", default="U", show_default=True, help="The IAM user that assumes the role.")(command)
    command = click.option("--role", default="R", show_default=True, help="The role that pushes.")(command)
    command = click.option("--account", metavar="ID", help="AWS account id (default: an example id, with a warning).")(command)
    group.command("policy")(command)


def credential_helper_main() -> None:
    """Entry point of ``docker-credential-assumer``."""
    from assumer import credhelper
    from assumer.entry import interrupt_on_sigterm

    interrupt_on_sigterm()
    sys.exit(credhelper.main())
