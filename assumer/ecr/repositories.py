"""ECR repositories: does one exist, create it (``ecr-push --create-repository``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from assumer.ecr.registry import find_registry
from assumer.ecr.tokens import ecr_client
from assumer.errors import AuthError, EngineError

if TYPE_CHECKING:
    from typing import TypedDict

    from mypy_boto3_ecr import ECRClient

    from assumer.core.session import Session

    class _Scope(TypedDict, total=False):
        """The registry a repository call names (none: the caller's own account's)."""

        registryId: str


def _repository_client(session: Session, host: str) -> tuple[ECRClient, _Scope]:
    """The client for ``host``'s registry (already checked): an ECR host's own region and account, else the
    session's (a host opted in with --allow-non-ecr-registry)."""
    found = find_registry(host)
    if found is None:
        return ecr_client(session, session.region), {}
    return ecr_client(session, found.region), {"registryId": found.account}


def repository_exists(session: Session, name: str, *, host: str) -> bool | None:
    """Whether repository ``name`` exists in ``host``'s registry; None when the role may not tell."""
    import botocore.exceptions

    from assumer.core import sts

    client, scope = _repository_client(session, host)
    try:
        client.describe_repositories(repositoryNames=[name], **scope)
        return True
    except botocore.exceptions.ClientError as exc:
        if exc.response.get("Error", {}).get("Code") == "RepositoryNotFoundException":
            return False
        error = sts.translate(exc, action=f"checking repository {name!r}", profile=session.profile)
        if isinstance(error, AuthError):
            return None
        raise error from None
    except Exception as exc:  # noqa: BLE001 - botocore's other errors are translated; translate() re-raises the rest
        raise sts.translate(exc, action=f"checking repository {name!r}", profile=session.profile) from None


def missing_repository(name: str, host: str, engine_said: str) -> EngineError:
    """The error for a push refused because the repository does not exist."""
    return EngineError(f"repository {name!r} does not exist in {host} ({engine_said})",
                       hint="create it, or pass --create-repository")


def ensure_repository(session: Session, name: str, *, host: str) -> bool:
    """``--create-repository``: create ``name`` unless it exists; True when it was created."""
    import botocore.exceptions

    from assumer.core import sts

    if repository_exists(session, name, host=host):
        return False
    client, scope = _repository_client(session, host)
    try:
        client.create_repository(repositoryName=name, **scope)
    except botocore.exceptions.ClientError as exc:
        if exc.response.get("Error", {}).get("Code") == "RepositoryAlreadyExistsException":
            return False  # created meanwhile, or DescribeRepositories was not allowed: fine
        error = sts.translate(exc, action=f"creating repository {name!r}", profile=session.profile)
        if isinstance(error, AuthError) and "denied" in error.message:
            error.hint = "the role needs ecr:CreateRepository ('assumer policy --allow-create-repository')"
        raise error from None
    except Exception as exc:  # noqa: BLE001 - botocore's other errors are translated; translate() re-raises the rest
        raise sts.translate(exc, action=f"creating repository {name!r}", profile=session.profile) from None
    return True
