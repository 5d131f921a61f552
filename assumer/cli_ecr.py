"""ECR commands (placeholder: the ECR work fills this in)."""

from __future__ import annotations

import click


def register(group: click.Group) -> None:
    """Add the ECR commands to the ``assumer`` group."""


def credential_helper_main() -> None:
    """Entry point of ``docker-credential-assumer``."""
    raise SystemExit("docker-credential-assumer: not implemented yet")
