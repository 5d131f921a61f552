"""The shell integration scripts in ``shell/``, shipped inside the package, and the loader
that ``assumer shell-init SHELL --install`` writes to the user's data directory.

The loader is the fast set-up: the rc file sources it and it sources the installed
script, so a new shell starts no Python. It names the script by its path in this
installation; an upgrade in place replaces that file, so the loader stays right. When
the file is gone (an upgrade to another Python, a moved or removed virtual
environment), the loader asks the ``assumer`` on PATH to write it again, once, and
loads the new one: a stale loader costs one test of a file per new shell.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from assumer.errors import AssumerError

# The last line of each script: it defines the function under the name given to `. FILE --name NAME`.
LOAD_LINES = {"bash": '__assumer_load "$@"\n', "zsh": '__assumer_load "$@"\n', "fish": "__assumer_load $argv\n"}
NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*\Z")


def script_path(shell: str) -> Path:
    """The script for ``shell``: in the wheel (assumer/shell/) or, from a checkout, the top-level shell/."""
    name = f"assumer.{shell}"
    package = Path(__file__).resolve().parent.parent
    for candidate in (package / "shell" / name, package.parent / "shell" / name):
        if candidate.is_file():
            return candidate
    raise AssumerError(f"the {shell} integration ({name}) is missing from this installation", hint="reinstall assumer")


def script(shell: str, *, name: str | None = None) -> str:
    """The text of the integration for ``shell``; with ``name``, it defines the function under that name."""
    text = script_path(shell).read_text(encoding="utf-8")
    if name is None:
        return text
    if not NAME.match(name):  # click checks it first; this keeps the substitution safe on its own
        raise ValueError(f"not a command name: {name!r}")
    line = LOAD_LINES[shell]
    head, found, tail = text.rpartition(line)
    if not found:
        raise AssumerError(f"the {shell} integration has no load line", hint="reinstall assumer")
    return f"{head}__assumer_load --name {name}\n{tail}"


def data_dir(environ: os._Environ[str] | dict[str, str] | None = None) -> Path:
    """``$XDG_DATA_HOME/assumer`` (default ``~/.local/share/assumer``): where the loader goes."""
    environ = os.environ if environ is None else environ
    value = environ.get("XDG_DATA_HOME")
    base = Path(value) if value and os.path.isabs(value) else Path(os.path.expanduser("~/.local/share"))
    return base / "assumer"


def loader_path(shell: str) -> Path:
    return data_dir() / f"assumer.{shell}"


def loader(shell: str, target: Path, itself: Path) -> str:
    """The loader for ``shell``: source ``target``; where it is gone, have it written again and load that."""
    from assumer.cli.render import quote_fish, quote_posix

    header = (f"# assumer's shell integration for {shell}, written by `assumer shell-init {shell} --install`:\n"
              "# it loads the script of the assumer installation named below. Where that file is\n"
              "# gone (an upgrade to another Python, a moved virtual environment), it runs\n"
              f"# `assumer shell-init {shell} --install` once, which writes this file again, and loads it.\n")
    again = f"command assumer shell-init {shell} --install >/dev/null 2>&1"
    gone = (f"assumer: {target} is gone and 'assumer shell-init {shell} --install' failed "
            "(is assumer on PATH?); assume is not loaded")
    if shell == "fish":
        quoted, self_quoted = quote_fish(str(target)), quote_fish(str(itself))
        return header + (
            f"if test -f {quoted}\n"
            f"    source {quoted} $argv\n"
            f"else if not set -q __assumer_reloading; and {again}\n"
            "    set -g __assumer_reloading 1\n"
            f"    source {self_quoted} $argv\n"
            "    set -e __assumer_reloading\n"
            "else\n"
            f"    echo {quote_fish(gone)} >&2\n"
            "end\n")
    quoted, self_quoted = quote_posix(str(target)), quote_posix(str(itself))
    return header + (
        f'if [ -f {quoted} ]; then\n'
        f'    . {quoted} "$@"\n'
        f'elif [ -z "${{__ASSUMER_RELOADING-}}" ] && {again}; then\n'
        "    __ASSUMER_RELOADING=1\n"
        f'    . {self_quoted} "$@"\n'
        "    unset __ASSUMER_RELOADING\n"
        "else\n"
        f"    printf '%s\\n' {quote_posix(gone)} >&2\n"
        "fi\n")


def install(shell: str) -> Path:
    """Write (or rewrite) the loader for ``shell`` in the data directory; its path."""
    from assumer.paths import write_private_file

    path = loader_path(shell)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise AssumerError(f"cannot create {path.parent}: {exc.strerror}",
                           hint="check the directory's permissions, or set XDG_DATA_HOME") from None
    write_private_file(path, loader(shell, script_path(shell), path))
    return path


def source_line(shell: str, path: Path, name: str | None) -> str:
    """The line for the rc file that loads ``path``."""
    from assumer.cli.render import quote_fish, quote_posix

    quoted = quote_fish(str(path)) if shell == "fish" else quote_posix(str(path))
    command = "source" if shell == "fish" else "."
    return f"{command} {quoted}" + (f" --name {name}" if name else "")
