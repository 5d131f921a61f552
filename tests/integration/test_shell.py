"""The shell integration as a user runs it: real bash, zsh and fish, each set up with
``assumer shell-init``, against the moto server (through the recording proxy) and the
real keyring; then a real AWS call (the aws CLI) from the same shell.

test_shell_functions.py covers what only a stand-in assumer can reach
(values with a newline, failures after partial output, expiry close at hand).
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

SHELLS = ("bash", "zsh", "fish")
INIT = {
    "bash": 'eval "$(assumer shell-init bash)"\n',
    "zsh": 'eval "$(assumer shell-init zsh)"\n',
    "fish": "assumer shell-init fish | source\n",
}
CREDENTIAL_VARIABLES = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
                        "AWS_CREDENTIAL_EXPIRATION")
MARKERS = ("ASSUMER_PROFILE", "ASSUMER_EXPIRATION", "ASSUMER_KEY_ID")
CALLER_ARN = "aws sts get-caller-identity --query Arn --output text\n"

# A profile name full of shell syntax. botocore, which the core hands the profile to for
# its settings, reads "[profile NAME]" with shlex, so quotes, backslashes and spaces
# cannot be in a name that works end to end; ${IFS} stands in for the spaces, and
# test_shell_functions.py evaluates quotes and newlines (direct render path).
HOSTILE = "$(touch${IFS}pwned-dollar)`touch${IFS}pwned-tick`;touch${IFS}pwned-semi&|<x>*?{a,b}~#%!$HOME\u00e9"
SENTINELS = ("pwned-dollar", "pwned-tick", "pwned-semi", "x")


def status(shell: str, label: str = "rc") -> str:
    return f"echo {label}=${'status' if shell == 'fish' else '?'}\n"


def is_set(shell: str, name: str) -> str:
    """Shell code printing NAME when the variable exists in the shell (exported or not)."""
    if shell == "fish":
        return f"if set -q {name}; echo {name}; end\n"
    return f"[ -z \"${{{name}+x}}\" ] || echo {name}\n"


def save(shell: str, name: str, path: Path) -> str:
    """Shell code writing the exact bytes of a variable to a file."""
    return f"printf '%s' \"${name}\" > '{path}'\n"


def run(aws_home, shell: str, body: str, **kwargs) -> subprocess.CompletedProcess[str]:
    assert shutil.which(shell), f"{shell} is not installed (tests/run.sh installs it)"
    return aws_home.shell(shell, INIT[shell] + body, **kwargs)


# -- assume, then a real AWS call in the same shell ---------------------------------------


@pytest.mark.parametrize("shell", SHELLS)
def test_assume_then_aws_names_the_role(aws_home, shell: str) -> None:
    result = run(aws_home, shell,
                 "assume r\n" + status(shell) + CALLER_ARN + "assume --status\nassumer_prompt ' [%s]'\n")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "rc=0"
    assert ":assumed-role/R/" in lines[1] and lines[1].startswith("arn:aws:sts::")
    assert lines[2].startswith("r: 59 min left (until ") or lines[2].startswith("r: 60 min left (until ")
    assert lines[3] in (" [r (59m)]", " [r (60m)]")
    assert aws_home.proxy.count("AssumeRole") == 1


@pytest.mark.parametrize("shell", SHELLS)
def test_a_second_shell_is_served_from_the_keyring(aws_home, shell: str) -> None:
    for _ in range(2):
        result = run(aws_home, shell, "assume r\n" + CALLER_ARN)
        assert result.returncode == 0 and ":assumed-role/R/" in result.stdout, result.stderr
    assert aws_home.proxy.count("AssumeRole") == 1


@pytest.mark.parametrize("shell", SHELLS)
def test_chained_profile(aws_home, shell: str) -> None:
    result = run(aws_home, shell, "assume r2\n" + CALLER_ARN)
    assert result.returncode == 0, result.stderr
    assert ":assumed-role/R2/" in result.stdout


@pytest.mark.parametrize("shell", SHELLS)
def test_dash_dash_runs_one_command_and_leaves_the_shell_alone(aws_home, shell: str) -> None:
    body = ("assume r -- aws sts get-caller-identity --query Arn --output text\n" + status(shell)
            + "".join(is_set(shell, n) for n in CREDENTIAL_VARIABLES + MARKERS))
    result = run(aws_home, shell, body)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert ":assumed-role/R/" in lines[0]
    assert lines[1:] == ["rc=0"]


HOOK = {"bash": "__assumer_refresh_hook\n", "zsh": "__assumer_precmd\n", "fish": "__assumer_refresh\n"}


@pytest.mark.parametrize("shell", SHELLS)
def test_refresh_at_the_prompt_renews_the_session(aws_home, tmp_path: Path, shell: str) -> None:
    """A session the renewal rule says is due (100 s left of an hour): the prompt hook assumes the role again.

    The shell's session is made to look due by its variables; the cached one is cleared,
    so that the renewal makes a new session.
    """
    due = ("set -l n (date +%s); set -gx ASSUMER_OBTAINED (math $n - 3500); "
           "set -gx ASSUMER_EXPIRATION (math $n + 100)\n" if shell == "fish"
           else "n=$(date +%s); ASSUMER_OBTAINED=$((n - 3500)); ASSUMER_EXPIRATION=$((n + 100))\n")
    setter = (due + "assumer clear r >/dev/null 2>&1\n"
              + ("set -g ASSUMER_AUTO_REFRESH 1\n" if shell == "fish" else "ASSUMER_AUTO_REFRESH=1\n"))
    body = ("assume r --region eu-west-1\n" + save(shell, "AWS_ACCESS_KEY_ID", tmp_path / "before")
            + setter + HOOK[shell] + save(shell, "AWS_ACCESS_KEY_ID", tmp_path / "after")
            + CALLER_ARN + 'echo "$AWS_REGION"\n')
    result = run(aws_home, shell, body)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert aws_home.proxy.count("AssumeRole") == 2
    assert (tmp_path / "after").read_text() != (tmp_path / "before").read_text()
    assert ":assumed-role/R/" in result.stdout
    assert result.stdout.endswith("eu-west-1\n")  # the options of the last assume are kept


# -- --unset and failures -----------------------------------------------------------------


@pytest.mark.parametrize("shell", SHELLS)
def test_unset_leaves_no_credential_variable(aws_home, shell: str) -> None:
    body = ("assume r\nassume --unset\n" + status(shell)
            + "".join(is_set(shell, n) for n in CREDENTIAL_VARIABLES + MARKERS + ("AWS_REGION",))
            + "env | grep -E '^(AWS_(ACCESS|SECRET|SESSION|CREDENTIAL|REGION|DEFAULT_REGION|PROFILE)|ASSUMER_)'\n"
            + "assume --status\n" + status(shell, "show"))
    result = run(aws_home, shell, body)
    assert result.stdout == "rc=0\nshow=1\n", result.stderr


@pytest.mark.parametrize("shell", SHELLS)
@pytest.mark.parametrize("profile, code", [("nosuch", 3), ("denied", 4)])
def test_failing_assume_leaves_the_previous_session(aws_home, tmp_path: Path, shell: str,
                                                    profile: str, code: int) -> None:
    aws_home.add_role_profile("denied", role=aws_home.world.role_untrusting)
    names = CREDENTIAL_VARIABLES + MARKERS + ("AWS_REGION", "AWS_DEFAULT_REGION")
    body = "assume r\n" + "".join(save(shell, n, tmp_path / f"before-{n}") for n in names)
    body += f"assume {profile}\n" + status(shell)
    body += "".join(save(shell, n, tmp_path / f"after-{n}") for n in names) + CALLER_ARN
    result = run(aws_home, shell, body)
    assert result.stdout.startswith(f"rc={code}\n"), result.stderr
    assert ":assumed-role/R/" in result.stdout  # the shell still holds r's session
    for name in names:
        assert (tmp_path / f"after-{name}").read_bytes() == (tmp_path / f"before-{name}").read_bytes()
        assert (tmp_path / f"after-{name}").read_bytes(), name
    assert "assumer: error:" in result.stderr


@pytest.mark.parametrize("shell", SHELLS)
def test_failing_first_assume_keeps_keys_exported_by_hand(aws_home, shell: str) -> None:
    setter = "set -gx AWS_ACCESS_KEY_ID mine\n" if shell == "fish" else "export AWS_ACCESS_KEY_ID=mine\n"
    result = run(aws_home, shell, setter + "assume nosuch\n" + status(shell) + 'echo "$AWS_ACCESS_KEY_ID"\n')
    assert result.stdout == "rc=3\nmine\n"


# -- tracing -------------------------------------------------------------------------------


TRACE_ON = {"bash": "set -xv\n", "zsh": "setopt xtrace verbose\n", "fish": "set -g fish_trace 1\n"}
TRACE_OFF = {"bash": "{ set +xv; } 2>/dev/null\n", "zsh": "{ unsetopt xtrace verbose; } 2>/dev/null\n",
             "fish": "set -e fish_trace\n"}


@pytest.mark.parametrize("shell", SHELLS)
def test_no_secret_reaches_the_trace(aws_home, tmp_path: Path, shell: str) -> None:
    body = (TRACE_ON[shell] + "assume r\nassume r --refresh\nassume --status\nassumer_prompt\necho traced-after\n"
            + TRACE_OFF[shell] + save(shell, "AWS_SECRET_ACCESS_KEY", tmp_path / "secret")
            + save(shell, "AWS_SESSION_TOKEN", tmp_path / "token") + CALLER_ARN)
    result = run(aws_home, shell, body)
    assert result.returncode == 0, result.stderr
    assert ":assumed-role/R/" in result.stdout
    secret = (tmp_path / "secret").read_text()
    token = (tmp_path / "token").read_text()
    assert len(secret) > 10 and len(token) > 10
    assert secret not in result.stderr
    assert token not in result.stderr
    assert "echo traced-after" in result.stderr  # tracing is on again after assume


# -- a hostile profile name ---------------------------------------------------------------


@pytest.mark.parametrize("shell", SHELLS)
def test_hostile_profile_name_round_trips_and_runs_nothing(aws_home, tmp_path: Path, shell: str) -> None:
    aws_home.add_role_profile(HOSTILE)
    body = ('assume "$HOSTILE"\n' + status(shell) + save(shell, "ASSUMER_PROFILE", tmp_path / "profile")
            + CALLER_ARN + "assume --status\nassumer_prompt\necho\n"
            + 'assume "$ASSUMER_PROFILE" -- printenv ASSUMER_PROFILE\n')
    result = run(aws_home, shell, body, env_extra={"HOSTILE": HOSTILE})
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("rc=0\n")
    assert (tmp_path / "profile").read_bytes() == HOSTILE.encode()
    assert ":assumed-role/R/" in result.stdout
    assert result.stdout.count(HOSTILE) == 3  # assume, assumer_prompt, the command's own print
    for name in SENTINELS:
        assert not (aws_home.home / name).exists(), f"injected code ran: {name}"


# -- completion ---------------------------------------------------------------------------

# Drive a completion function as readline would: the words, the index of the current one.
BASH_COMPLETE = """
complete_words() {{
    COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); COMPREPLY=()
    {function}
    printf '%s\\n' "${{COMPREPLY[@]}}" | sort; echo --
}}
"""


def completions(text: str) -> list[list[str]]:
    """Groups of sorted lines, each group ended by a "--" line."""
    groups, current = [], []
    for line in text.splitlines():
        if line == "--":
            groups.append(current)
            current = []
        elif line:
            current.append(line.split("\t")[0])
    return groups


def test_bash_completion(aws_home) -> None:
    body = (BASH_COMPLETE.format(function="__assumer_complete_assume").replace("complete_words", "c_assume")
            + BASH_COMPLETE.format(function="__assumer_complete").replace("complete_words", "c_assumer")
            + "c_assume assume r\nc_assume assume ''\nc_assume assume r --re\nc_assume assume --region x r\n"
            + "c_assumer assumer env r\nc_assumer assumer exec ''\nc_assumer assumer who\n"
            + "c_assumer assumer exec r -- printen\nc_assume assume r -- printen\n"
            + "complete -p assume assumer\n")
    result = run(aws_home, "bash", body)
    assert result.returncode == 0, result.stderr
    # compgen -c names a command once per PATH directory that holds it (/bin and /usr/bin): a set.
    assert [sorted(set(group)) for group in completions(result.stdout)] == [
        ["r", "r2"], ["r", "r2", "u"], ["--refresh", "--region"], ["r", "r2"],
        ["r", "r2"], ["r", "r2", "u"], ["whoami"], ["printenv"], ["printenv"],
    ]
    assert "-F __assumer_complete_assume assume" in result.stdout
    assert "-F __assumer_complete assumer" in result.stdout


def test_fish_completion(aws_home) -> None:
    body = "".join(f"complete -C '{line}' | sort; printf '%s\\n' --\n" for line in (
        "assume r", "assume ", "assume r --re", "assumer env r", "assumer who", "assume r -- printen",
        "assumer exec r -- printen"))
    result = run(aws_home, "fish", body)
    assert result.returncode == 0, result.stderr
    groups = completions(result.stdout)
    assert groups[:5] == [["r", "r2"], ["r", "r2", "u"], ["--refresh", "--region"], ["r", "r2"], ["whoami"]]
    assert "printenv" in groups[5] and "printenv" in groups[6]


# zsh completion runs inside the line editor only: an interactive zsh on a pseudo-terminal
# (zsh/zpty) with compinit, the script, and compadd wrapped to print what is offered;
# NUL lines frame the output of one completion (the technique of zsh-capture-completion).
ZSH_INIT = r"""
PROMPT=
autoload -Uz compinit; compinit -u -d "$ZDOTDIR/.zcompdump"
eval "$(assumer shell-init zsh)"
bindkey '^M' undefined; bindkey '^J' undefined; bindkey '^I' complete-word
__null_line() { print -rn -- $'\0' }
compprefuncs=(__null_line)
comppostfuncs=(__null_line exit)
zstyle ':completion:*' insert-tab false
compadd() {
    if [[ ${@[1,(i)(-|--)]} == *-(O|A|D)\ * ]]; then builtin compadd "$@"; return; fi
    local -a __hits
    builtin compadd -A __hits "$@"
    (( ${#__hits} )) && print -rl -- "${__hits[@]}"
    builtin compadd "$@"
}
"""
ZSH_CAPTURE = r"""
zmodload zsh/zpty
zpty z zsh -f -i
zpty -w z "source ${(q)1}"
zpty -n -w z "$2"$'\t'
local buf= chunk
while [[ ${buf//[^$'\0']/} != $'\0\0' ]] && zpty -r z chunk; do buf+=$chunk; done
zpty -d z
buf=${buf#*$'\0'}; buf=${buf%%$'\0'*}
print -r -- "${buf//$'\r'/}"
"""


@pytest.mark.parametrize("line, expected", [
    ("assume r", ["r", "r2"]),
    ("assume ", ["r", "r2", "u"]),
    ("assume r --re", ["--refresh", "--region"]),
    ("assumer env r", ["r", "r2"]),
    ("assumer who", ["whoami"]),
])
def test_zsh_completion(aws_home, tmp_path: Path, line: str, expected: list[str]) -> None:
    (tmp_path / "init.zsh").write_text(ZSH_INIT)
    (tmp_path / "capture.zsh").write_text(ZSH_CAPTURE)
    result = aws_home.command(["zsh", "-f", str(tmp_path / "capture.zsh"), str(tmp_path / "init.zsh"), line],
                              env_extra={"ZDOTDIR": str(tmp_path), "SHELL": shutil.which("zsh") or "zsh"})
    assert result.returncode == 0, result.stderr
    assert sorted(set(result.stdout.split())) == expected


@pytest.mark.parametrize("line", ["assume r -- printen", "assumer exec r -- printen"])
def test_zsh_completion_after_dash_dash_completes_a_command(aws_home, tmp_path: Path, line: str) -> None:
    (tmp_path / "init.zsh").write_text(ZSH_INIT)
    (tmp_path / "capture.zsh").write_text(ZSH_CAPTURE)
    result = aws_home.command(["zsh", "-f", str(tmp_path / "capture.zsh"), str(tmp_path / "init.zsh"),
                               line], env_extra={"ZDOTDIR": str(tmp_path)})
    assert "printenv" in result.stdout.split()


def test_zsh_script_loads_without_compdef(aws_home) -> None:
    """A bare zsh (no compinit, so no compdef) sources it silently; the functions work."""
    result = aws_home.command(["zsh", "-f", "-c", INIT["zsh"] + "(( ${+functions[compdef]} )) || echo no-compdef\n"
                               "assume r\n" + CALLER_ARN])
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert result.stdout.startswith("no-compdef\n") and ":assumed-role/R/" in result.stdout


def test_zsh_completion_registers_once_compinit_runs_later(aws_home, tmp_path: Path) -> None:
    """Sourced before compinit (as many .zshrc files do): registered at the next prompt."""
    script = (INIT["zsh"] + "print -r -- before:${_comps[assume]-none}\n"
              f"autoload -Uz compinit; compinit -u -d {tmp_path}/.zcompdump\n"
              "print -r -- after:${_comps[assume]-none}:${_comps[assumer]-none}\n")
    result = aws_home.command(["zsh", "-f", "-i"], input=script)
    assert "before:none" in result.stdout
    assert "after:_assume:_assumer" in result.stdout


# -- set-up lines from the README ----------------------------------------------------------


@pytest.mark.parametrize("shell", SHELLS)
def test_shell_init_prints_the_shipped_script(aws_home, shell: str) -> None:
    result = aws_home.run(["shell-init", shell])
    assert result.returncode == 0, result.stderr
    assert result.stdout == (Path(__file__).resolve().parents[2] / "shell" / f"assumer.{shell}").read_text()


@pytest.mark.parametrize("shell", SHELLS)
def test_the_prompt_hook_leaves_a_short_session_alone_for_half_its_life(aws_home, shell: str) -> None:
    """A fresh 900 s session with ASSUMER_MIN_TTL at its default (900): not due until 450 s are left."""
    setter = "set -g ASSUMER_AUTO_REFRESH 1\n" if shell == "fish" else "ASSUMER_AUTO_REFRESH=1\n"
    result = run(aws_home, shell, "assume r --duration 900\n" + setter + HOOK[shell] + HOOK[shell])
    assert result.returncode == 0, result.stderr
    assert aws_home.proxy.count("AssumeRole") == 1


# -- the fast set-up: the loader written by --install ---------------------------------------


def install(aws_home, shell: str) -> tuple[Path, str]:
    result = aws_home.run(["shell-init", shell, "--install"])
    assert result.returncode == 0, result.stderr
    line = result.stdout.strip()
    path = aws_home.home / ".local" / "share" / "assumer" / f"assumer.{shell}"
    xdg = aws_home.process_env().get("XDG_DATA_HOME")
    if xdg:
        path = Path(xdg) / "assumer" / f"assumer.{shell}"
    assert path.is_file() and str(path) in line and "wrote" in result.stderr
    return path, line


@pytest.mark.parametrize("shell", SHELLS)
def test_the_installed_loader_starts_no_python(aws_home, tmp_path: Path, shell: str) -> None:
    """The rc line that --install prints loads `assume` with no assumer on PATH (so no Python start)."""
    _, line = install(aws_home, shell)
    empty = tmp_path / "empty"
    empty.mkdir()
    setter = f"set -gx PATH {empty}\n" if shell == "fish" else f"PATH={empty}\n"
    check = "functions -q assume; and echo defined\n" if shell == "fish" else \
        "[ \"$(type -t assume 2>/dev/null || whence -w assume)\" ] && echo defined\n"
    result = aws_home.shell(shell, setter + line + "\n" + check)
    assert result.stdout == "defined\n", result.stderr
    assert result.stderr == ""
    # And with assumer on PATH, it works as the eval form does.
    result = aws_home.shell(shell, line + "\nassume r\n" + status(shell) + CALLER_ARN)
    assert result.stdout.startswith("rc=0\n") and ":assumed-role/R/" in result.stdout, result.stderr


@pytest.mark.parametrize("shell", SHELLS)
def test_a_loader_whose_installation_is_gone_writes_itself_again(aws_home, shell: str) -> None:
    """An upgrade to another Python or a moved venv: the named script is gone; one assumer call fixes it."""
    path, line = install(aws_home, shell)
    real = str(Path(__file__).resolve().parents[2] / "shell" / f"assumer.{shell}")
    stale = path.read_text().replace(real, "/nonexistent/old-venv/assumer/shell/assumer." + shell)
    assert stale != path.read_text()
    path.write_text(stale)
    result = aws_home.shell(shell, line + " --name aws-assume\naws-assume r\n" + status(shell) + CALLER_ARN)
    assert result.stdout.startswith("rc=0\n") and ":assumed-role/R/" in result.stdout, result.stderr
    assert result.stderr == ""
    assert "/nonexistent/" not in path.read_text() and real in path.read_text()


@pytest.mark.parametrize("shell", SHELLS)
def test_shell_init_name(aws_home, shell: str) -> None:
    init = (f'eval "$(assumer shell-init {shell} --name aws-assume)"\n' if shell != "fish"
            else f"assumer shell-init {shell} --name aws-assume | source\n")
    result = aws_home.shell(shell, init + "aws-assume r\n" + status(shell) + CALLER_ARN)
    assert result.stdout.startswith("rc=0\n") and ":assumed-role/R/" in result.stdout, result.stderr


# -- nesting: assumer exec inside a session ---------------------------------------------------


@pytest.mark.parametrize("shell", SHELLS)
def test_exec_inside_a_session_marks_the_child_as_nested(aws_home, shell: str) -> None:
    show = "sh -c 'echo \"parent=${ASSUMER_PARENT_PROFILE-none} profile=$ASSUMER_PROFILE\"'"
    result = run(aws_home, shell, f"assumer exec r -- {show}\nassume r\nassumer exec r2 -- {show}\n")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["parent=none profile=r", "parent=r profile=r2"]
