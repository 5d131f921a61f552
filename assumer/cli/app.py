"""The ``assumer`` command group: assembled from the command modules, run with the exit-code mapping.

Only click and light modules are imported at start-up; boto3 and keyring are
imported by the core when (and only when) a command needs them. This is the one
place where errors become messages and exit codes.
"""

from __future__ import annotations

import os
import sys
from typing import NoReturn

import click

from assumer import __version__, ui
from assumer.cli import admin_commands, ecr_commands, login_commands, session_commands
from assumer.cli.common import CONTEXT
from assumer.errors import AssumerError
from assumer.signals import interrupt_on_sigterm


@click.group(context_settings=CONTEXT)
@click.version_option(__version__, "--version", prog_name="assumer")
@click.option("--debug", is_flag=True, help="Log to stderr (secrets redacted), tracebacks included.")
def cli(debug: bool) -> None:
    """AWS role credentials for the shell, cached in the OS keyring.

    \b
      eval "$(assumer env PROFILE)"     set the credentials in this shell
      assumer exec PROFILE -- CMD       run one command with them
      credential_process = assumer credential-process PROFILE
    """
    if debug:
        from assumer import logs

        logs.enable_debug()


for _command in (
    session_commands.env_command,
    session_commands.exec_command,
    session_commands.credential_process_command,
    session_commands.whoami_command,
    login_commands.login_command,
    admin_commands.list_command,
    admin_commands.clear_command,
    admin_commands.add_command,
    admin_commands.remove_command,
    admin_commands.rotate_command,
    admin_commands.shell_init_command,
    ecr_commands.ecr_login_command,
    ecr_commands.ecr_push_command,
    ecr_commands.ecr_helper_group,
    ecr_commands.policy_command,
):
    cli.add_command(_command)


def run(argv: list[str] | None = None) -> NoReturn:
    """Run the command line and exit with the documented code."""
    interrupt_on_sigterm()
    debug = debug_requested(sys.argv[1:] if argv is None else argv)
    try:
        # Without standalone mode click returns, not raises, the code of a command's Exit (exec --server's).
        returned = cli.main(args=argv, prog_name="assumer", standalone_mode=False)
        code = returned if isinstance(returned, int) else 0
    except click.exceptions.Exit as exc:
        code = exc.exit_code
    except (click.exceptions.Abort, KeyboardInterrupt):
        ui.info("interrupted")
        code = 130
    except click.ClickException as exc:
        exc.show()
        code = exc.exit_code
    except AssumerError as exc:
        _report(exc, debug)
        code = exc.exit_code
    except BrokenPipeError:  # the reader of stdout went away (assumer env r | head)
        code = 1
    except Exception as exc:  # noqa: BLE001 - a bug: one line, and the traceback with --debug
        _report(exc, debug)
        code = 1
    _exit(code)


def debug_requested(argv: list[str]) -> bool:
    """``--debug`` among the group options (before the command), not in a command's own arguments."""
    for word in argv:
        if word == "--debug":
            return True
        if not word.startswith("-"):
            return False
    return False


def _report(exc: BaseException, debug: bool) -> None:
    from assumer import logs

    if debug:
        import traceback

        sys.stderr.write(logs.redact("".join(traceback.format_exception(exc))))
    if isinstance(exc, AssumerError):
        line = f"assumer: error: {exc}"
    else:
        line = f"assumer: internal error: {type(exc).__name__}: {exc} (a bug; --debug shows the traceback)"
    sys.stderr.write(logs.redact(line) + "\n")
    sys.stderr.flush()


def _exit(code: int) -> NoReturn:
    try:
        sys.stdout.flush()
    except (BrokenPipeError, ValueError):
        # The reader went away (assumer env r | head): nothing left to say.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    sys.exit(code)
