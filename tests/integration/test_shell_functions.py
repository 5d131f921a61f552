"""shell/assumer.{bash,zsh,fish} in the real shells, with a stand-in ``assumer`` on PATH.

The stand-in records its argv and prints what ``assumer.render`` renders for the test,
with the exit status the test asks for. That reaches what a real ``assumer env`` cannot
print from a real config: a newline in a profile name, a failure after partial output,
an expiry a few seconds away. test_shell.py runs the same functions against the real
assumer, moto and keyring.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from assumer.cli.render import ALL_VARIABLES, render, render_unset

ROOT = Path(__file__).resolve().parents[2]
SHELLS = ("bash", "zsh", "fish")

STUB = """#!/bin/sh
# Records each call as CALL\\0 ARG\\0 ARG\\0 ...; prints $STUB_OUT for `env`.
{ printf 'CALL\\0'; [ "$#" -eq 0 ] || printf '%s\\0' "$@"; } >> "$STUB_LOG"
if [ "${1-}" = env ] && [ -f "${STUB_OUT-}" ]; then cat "$STUB_OUT"; fi
exit "${STUB_RC:-0}"
"""

# Every shell-syntax character that could run code if a value were ever evaluated, and
# a newline (which a profile name in the AWS config cannot hold).
HOSTILE = ("it's \"q\" $(touch pwned-dollar) `touch pwned-tick`; touch pwned-semi\n"
           "touch pwned-newline & | > x < y * ? [a] {b,c} ~ # % \\ \t !! é \x01 end")
SENTINELS = ("pwned-dollar", "pwned-tick", "pwned-semi", "pwned-newline", "x")


def source_line(shell: str) -> str:
    path = ROOT / "shell" / f"assumer.{shell}"
    return f"source '{path}'" if shell == "fish" else f". '{path}'"


@dataclass
class Run:
    shell: str
    tmp: Path
    log: Path
    out: Path

    def env(self, **extra: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("AWS_", "ASSUMER_", "XDG_", "BASH_ENV", "ENV"))}
        env.update(PATH=f"{self.tmp / 'bin'}{os.pathsep}{env.get('PATH', os.defpath)}",
                   HOME=str(self.tmp / "home"), XDG_CONFIG_HOME=str(self.tmp / "home" / ".config"),
                   XDG_DATA_HOME=str(self.tmp / "home" / ".local" / "share"),
                   STUB_LOG=str(self.log), STUB_OUT=str(self.out), SHELL=shutil.which(self.shell) or "")
        env.update(extra)
        return env

    def prints(self, variables: dict[str, str], unset: tuple[str, ...] = ()) -> None:
        """What the stand-in assumer prints: ``variables`` rendered for this shell."""
        self.out.write_text(render(variables, unset, self.shell), encoding="utf-8", newline="")

    def __call__(self, body: str, **extra: str) -> subprocess.CompletedProcess[str]:
        script = source_line(self.shell) + "\n" + body
        path = shutil.which(self.shell)
        assert path, f"{self.shell} is not installed (tests/run.sh installs it)"
        return subprocess.run([path, "-c", script], env=self.env(**extra), cwd=self.tmp / "home",
                              capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)

    def calls(self) -> list[list[str]]:
        if not self.log.exists():
            return []
        fields = self.log.read_bytes().decode().split("\0")[:-1]
        calls: list[list[str]] = []
        for item in fields:
            if item == "CALL":
                calls.append([])
            else:
                calls[-1].append(item)
        return calls


@pytest.fixture(params=SHELLS)
def run(request: pytest.FixtureRequest, tmp_path: Path) -> Run:
    (tmp_path / "bin").mkdir()
    (tmp_path / "home").mkdir()
    stub = tmp_path / "bin" / "assumer"
    stub.write_text(STUB)
    stub.chmod(0o755)
    return Run(request.param, tmp_path, tmp_path / "calls.jsonl", tmp_path / "out.txt")


def session(profile: str = "r", *, expires_in: int = 3600, secret: str = "SECRET/abc+def",
            key_id: str = "ASIAEXAMPLE") -> dict[str, str]:
    return {
        "AWS_ACCESS_KEY_ID": key_id,
        "AWS_SECRET_ACCESS_KEY": secret,
        "AWS_SESSION_TOKEN": "TOKEN//xyz==",
        "AWS_CREDENTIAL_EXPIRATION": "2030-01-01T00:00:00Z",
        "AWS_REGION": "ap-northeast-1",
        "AWS_DEFAULT_REGION": "ap-northeast-1",
        "ASSUMER_PROFILE": profile,
        "ASSUMER_EXPIRATION": str(int(time.time()) + expires_in),
        "ASSUMER_KEY_ID": key_id,
    }


def dump(shell: str, *names: str) -> str:
    """Shell code printing ``NAME=<value>|`` for each variable, or ``NAME unset|``."""
    lines = []
    for name in names:
        if shell == "fish":
            lines.append(f"if set -q {name}; printf '%s=%s|' {name} \"${name}\"; "
                         f"else; printf '%s unset|' {name}; end")
        else:
            lines.append(f"if [ -n \"${{{name}+x}}\" ]; then printf '%s=%s|' {name} \"${name}\"; "
                         f"else printf '%s unset|' {name}; fi")
    return "\n".join(lines) + "\n"


def status(shell: str, label: str = "rc") -> str:
    return f"echo {label}=${'status' if shell == 'fish' else '?'}\n"


def parse_dump(text: str) -> dict[str, str | None]:
    found: dict[str, str | None] = {}
    for item in text.split("|")[:-1]:
        if "=" in item and not item.endswith(" unset"):
            name, value = item.split("=", 1)
            found[name.rsplit("\n", 1)[-1]] = value
        else:
            found[item.rsplit("\n", 1)[-1][: -len(" unset")]] = None
    return found


# -- assume PROFILE -----------------------------------------------------------------


def test_assume_evaluates_what_assumer_env_prints(run: Run) -> None:
    variables = session()
    run.prints(variables, ("AWS_PROFILE", "AWS_DEFAULT_PROFILE"))
    result = run("export AWS_PROFILE=old 2>/dev/null || set -gx AWS_PROFILE old\n"
                 "assume r --duration 900\n" + status(run.shell) + dump(run.shell, *variables, "AWS_PROFILE"))
    assert result.returncode == 0, result.stderr
    assert "rc=0" in result.stdout
    assert run.calls() == [["env", "r", "--duration", "900", "--shell", run.shell]]
    values = parse_dump(result.stdout.split("rc=0\n", 1)[1])
    assert values == {**variables, "AWS_PROFILE": None}


def test_variables_are_exported_to_children(run: Run) -> None:
    run.prints(session())
    result = run("assume r\nenv | grep -E '^(AWS|ASSUMER)_' | sort\n")
    assert result.returncode == 0, result.stderr
    names = {line.split("=", 1)[0] for line in result.stdout.splitlines()}
    assert names == set(session())


def test_hostile_values_round_trip_and_run_nothing(run: Run) -> None:
    variables = session(HOSTILE, secret=HOSTILE, key_id="ASIA" + HOSTILE)
    run.prints(variables)
    out = run.tmp / "home" / "profile.bin"
    body = (f"assume \"$HOSTILE\"\n{status(run.shell)}"
            f"printf '%s' \"$ASSUMER_PROFILE\" > '{out}'\n"
            f"printf '%s' \"$AWS_SECRET_ACCESS_KEY\" > '{out}.secret'\n"
            "assume --status\nassumer_prompt\n")
    # The refresh hook and the exec path pass the name on: as one argument, unevaluated.
    hook = "__assumer_refresh" if run.shell == "fish" else (
        "__assumer_precmd" if run.shell == "zsh" else "__assumer_refresh_hook")
    body += f"ASSUMER_AUTO_REFRESH=1 ASSUMER_MIN_TTL=999999 {hook}\n" if run.shell != "fish" else (
        f"set -g ASSUMER_AUTO_REFRESH 1; set -g ASSUMER_MIN_TTL 999999; {hook}\n")
    body += "assume \"$ASSUMER_PROFILE\" -- true\n"
    result = run(body, HOSTILE=HOSTILE)
    assert result.returncode == 0, result.stderr
    assert "rc=0" in result.stdout
    assert out.read_bytes() == HOSTILE.encode()
    assert Path(f"{out}.secret").read_bytes() == HOSTILE.encode()
    assert HOSTILE in result.stdout  # `assume` and assumer_prompt print the name as it is
    assert run.calls() == [
        ["env", HOSTILE, "--shell", run.shell],
        ["env", HOSTILE, "--shell", run.shell],
        ["exec", HOSTILE, "--", "true"],
    ]
    for name in SENTINELS:
        assert not (run.tmp / "home" / name).exists(), f"injected code ran: {name}"


@pytest.mark.parametrize("code", [3, 4, 5, 6])
def test_failure_leaves_variables_untouched_and_returns_the_code(run: Run, code: int) -> None:
    before = session("before", secret="OLD-SECRET", key_id="ASIAOLD")
    run.prints(session("evil", secret="EVIL", key_id="ASIAEVIL"))  # printed, then a failure
    setup = "".join(
        f"set -gx {k} '{v}'\n" if run.shell == "fish" else f"export {k}='{v}'\n" for k, v in before.items())
    result = run(setup + "assume evil\n" + status(run.shell) + dump(run.shell, *ALL_VARIABLES),
                 STUB_RC=str(code))
    assert f"rc={code}\n" in result.stdout
    values = parse_dump(result.stdout.split(f"rc={code}\n", 1)[1])
    assert values == {name: before.get(name) for name in ALL_VARIABLES}


def test_assume_status_is_assumers_in_a_condition(run: Run) -> None:
    if run.shell == "fish":
        body = "if assume nope; echo yes; else; echo no=$status; end\n"
    else:
        body = "if assume nope; then echo yes; else echo no=$?; fi\n"
    result = run(body, STUB_RC="3")
    assert result.stdout == "no=3\n"


# -- --unset, no argument, -- CMD ------------------------------------------------------


def test_unset_evaluates_assumer_env_unset(run: Run) -> None:
    run.out.write_text(render_unset(run.shell))
    setup = "".join(f"set -gx {k} v\n" if run.shell == "fish" else f"export {k}=v\n" for k in ALL_VARIABLES)
    result = run(setup + "assume --unset\n" + status(run.shell) + dump(run.shell, *ALL_VARIABLES))
    assert result.returncode == 0, result.stderr
    assert "rc=0" in result.stdout
    assert run.calls() == [["env", "--unset", "--shell", run.shell]]
    assert set(parse_dump(result.stdout.split("rc=0\n", 1)[1]).values()) == {None}


def test_unset_takes_no_other_argument(run: Run) -> None:
    result = run("assume --unset r\n" + status(run.shell))
    assert result.stdout == "rc=2\n"
    assert "--unset takes no other argument" in result.stderr
    assert run.calls() == []


def test_assume_status_shows_the_profile_and_minutes_left(run: Run) -> None:
    run.prints(session("r", expires_in=600 + 30))
    result = run("assume r\nassume --status\n" + status(run.shell))
    assert result.stdout == "r: 10 min left (until 2030-01-01T00:00:00Z)\nrc=0\n"


def test_assume_status_without_a_session(run: Run) -> None:
    result = run("assume --status\n" + status(run.shell))
    assert result.stdout == "rc=1\n"
    assert "no profile assumed" in result.stderr


def test_assume_status_notices_keys_exported_by_hand(run: Run) -> None:
    run.prints(session("r"))
    change = "set -gx AWS_ACCESS_KEY_ID mine\n" if run.shell == "fish" else "export AWS_ACCESS_KEY_ID=mine\n"
    result = run("assume r\n" + change + "assume --status\n")
    assert "not assumer's session" in result.stdout


def test_dash_dash_runs_one_command_through_assumer_exec(run: Run) -> None:
    result = run("assume r --region eu-west-1 --refresh -- printf '%s' 'a b' c\n" + status(run.shell)
                 + dump(run.shell, "ASSUMER_PROFILE"))
    assert result.returncode == 0, result.stderr
    assert run.calls() == [["exec", "--region", "eu-west-1", "--refresh", "r", "--", "printf", "%s", "a b", "c"]]
    assert "ASSUMER_PROFILE unset|" in result.stdout  # the shell itself is not changed


def test_dash_dash_returns_the_commands_status(run: Run) -> None:
    result = run("assume r -- false\n" + status(run.shell), STUB_RC="7")
    assert result.stdout == "rc=7\n"


def test_dash_dash_needs_exactly_one_profile(run: Run) -> None:
    result = run("assume r r2 -- true\n" + status(run.shell))
    assert result.stdout == "rc=2\n"
    assert run.calls() == []


def test_help(run: Run) -> None:
    result = run("assume --help\n")
    assert result.returncode == 0 and result.stdout.startswith("usage: assume PROFILE")
    assert run.calls() == []


@pytest.mark.parametrize("args", ["r --help", "r -h", "r --region eu-west-1 --help", "--refresh r -h"])
def test_help_after_a_profile_is_printed_never_evaluated(run: Run, args: str) -> None:
    # What `assumer env r --help` would print: click's help, whose first word eval would run.
    run.out.write_text("Usage: assumer env [OPTIONS] [PROFILE]\n")
    usage = run.tmp / "bin" / "Usage:"
    usage.write_text(f"#!/bin/sh\ntouch '{run.tmp / 'evaluated'}'\n")
    usage.chmod(0o755)
    result = run(f"assume {args}\n" + status(run.shell))
    assert result.stdout.startswith("usage: assume PROFILE") and result.stdout.endswith("rc=0\n")
    assert run.calls() == []  # assumer env was not even run
    assert not (run.tmp / "evaluated").exists()


def test_help_after_dash_dash_belongs_to_the_command(run: Run) -> None:
    run("assume r -- tool --help\n")
    assert run.calls() == [["exec", "r", "--", "tool", "--help"]]


def test_assume_alone_runs_assumer_env_without_a_profile(run: Run) -> None:
    """The picker is assumer env's (on /dev/tty); the shell evaluates what it prints on success."""
    run.prints(session("r2"))
    result = run("assume\n" + status(run.shell) + dump(run.shell, "ASSUMER_PROFILE"))
    assert result.returncode == 0, result.stderr
    assert run.calls() == [["env", "--shell", run.shell]]
    assert "rc=0\nASSUMER_PROFILE=r2|" in result.stdout


def test_assume_alone_cancelled_changes_nothing(run: Run) -> None:
    run.prints(session("r2"))  # printed, then the picker's Esc (130)
    result = run("assume\n" + status(run.shell) + dump(run.shell, "ASSUMER_PROFILE"), STUB_RC="130")
    assert "rc=130\nASSUMER_PROFILE unset|" in result.stdout


@pytest.mark.parametrize("args, call", [
    ("-l", ["list"]), ("--list", ["list"]), ("-c r", ["login", "r"]),
    ("--console r --print", ["login", "r", "--print"]), ("-c", ["login"])])
def test_list_and_console(run: Run, args: str, call: list[str]) -> None:
    result = run(f"assume {args}\n" + status(run.shell), STUB_RC="0")
    assert result.stdout == "rc=0\n", result.stderr
    assert run.calls() == [call]


def run_interactive(run: Run, body: str, **extra: str) -> subprocess.CompletedProcess[str]:
    """``shell -i -c``: interactive, as a terminal's shell is (without the terminal)."""
    path = shutil.which(run.shell) or run.shell
    flags = ["--norc", "--noprofile"] if run.shell == "bash" else ["-f"] if run.shell == "zsh" else ["--no-config"]
    return subprocess.run([path, *flags, "-i", "-c", source_line(run.shell) + "\n" + body], env=run.env(**extra),
                          cwd=run.tmp / "home", capture_output=True, text=True, timeout=60,
                          stdin=subprocess.DEVNULL)


def test_assume_says_one_line_in_an_interactive_shell(run: Run) -> None:
    run.prints(session("r", expires_in=600 + 30))
    result = run_interactive(run, "assume r\n")
    lines = [line for line in result.stderr.splitlines() if line.startswith("assume: ")]
    assert lines == ["assume: profile r, region ap-northeast-1, 10 min left"], result.stderr


def test_assume_is_quiet_in_a_script(run: Run) -> None:
    run.prints(session("r"))
    result = run("assume r\nassume\n")
    assert result.returncode == 0 and result.stderr == ""


def test_nested_session_shows_in_the_prompt_and_the_line(run: Run) -> None:
    """assumer exec's subshell inside another session exports ASSUMER_PARENT_PROFILE."""
    run.prints(session("r2", expires_in=600 + 30))
    setter = "set -gx ASSUMER_PARENT_PROFILE r\n" if run.shell == "fish" else "export ASSUMER_PARENT_PROFILE=r\n"
    result = run_interactive(run, setter + "assume r2\nassumer_prompt ' [%s]'\n")
    assert result.stdout == " [r > r2 (10m)]"
    assert "assume: profile r2, region ap-northeast-1, 10 min left (nested inside r's subshell)" in result.stderr


# -- another tool's `assume`, and --name -------------------------------------------------------

GRANTED = {"bash": "alias assume='. assume'\n", "zsh": "alias assume='. assume'\n",
           "fish": "alias assume='echo granted'\n"}
SOURCE_AGAIN = {"bash": ". '{path}' {args}\n", "zsh": ". '{path}' {args}\n", "fish": "source '{path}' {args}\n"}


def source_again(shell: str, args: str = "") -> str:
    return SOURCE_AGAIN[shell].format(path=ROOT / "shell" / f"assumer.{shell}", args=args)


def kind_of(shell: str, name: str) -> str:
    if shell == "bash":
        return f"echo kind=$(type -t {name})\n"
    if shell == "zsh":
        return f"echo kind=$(whence -w {name})\n"  # "NAME: alias"
    return f"if functions -q {name}; echo kind=function (functions {name} | string match -q '*__assumer_main*'; " \
           "and echo ours; or echo theirs); else; echo kind=none; end\n"


def test_an_existing_alias_is_left_alone_and_loading_does_not_break(run: Run) -> None:
    """granted's `alias assume=". assume"` in the rc file, before assumer's line: no syntax error."""
    path = shutil.which(run.shell) or run.shell
    flags = ["--norc", "--noprofile"] if run.shell == "bash" else ["-f"] if run.shell == "zsh" else ["--no-config"]
    # The alias is defined on a line of its own (aliases apply from the next line read).
    script = (GRANTED[run.shell] + source_again(run.shell) + "assumer_prompt; echo loaded\n"
              + kind_of(run.shell, "assume"))
    rc = run.tmp / "home" / "rc"
    rc.write_text(script)
    command = f". '{rc}'" if run.shell != "fish" else f"source '{rc}'"
    result = subprocess.run([path, *flags, "-i", "-c", command], env=run.env(), cwd=run.tmp / "home",
                            capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
    assert "loaded\n" in result.stdout, result.stderr
    assert "syntax error" not in result.stderr and "parse error" not in result.stderr
    assert "'assume' is already" in result.stderr and "--name NAME" in result.stderr
    if run.shell == "fish":
        assert "kind=function theirs" in result.stdout
    else:
        assert "kind=alias\n" in result.stdout or "kind=assume: alias\n" in result.stdout


def test_name_chooses_the_function_name(run: Run) -> None:
    run.prints(session("r"))
    theirs = "function assume; echo granted; end\n" if run.shell == "fish" else "assume() { echo granted; }\n"
    result = run(theirs + source_again(run.shell, "--name aws-assume") + "aws-assume r\n" + status(run.shell)
                 + "assume r\naws-assume --help\n")
    assert result.returncode == 0, result.stderr
    assert run.calls() == [["env", "r", "--shell", run.shell]]
    assert "rc=0\ngranted\nusage: aws-assume PROFILE" in result.stdout
    assert result.stderr == ""  # not interactive: nothing said about the `assume` left alone


def test_explicit_name_takes_over_an_existing_function(run: Run) -> None:
    run.prints(session("r"))
    theirs = "function assume; echo granted; end\n" if run.shell == "fish" else "assume() { echo granted; }\n"
    result = run(theirs + source_again(run.shell, "--name assume") + "assume r\n" + status(run.shell))
    assert result.stdout == "rc=0\n", result.stderr
    assert run.calls() == [["env", "r", "--shell", run.shell]]


def test_a_name_that_is_code_is_refused(run: Run) -> None:
    result = run(source_again(run.shell, "--name 'x;touch pwned-semi'") + "echo after\n")
    assert "--name wants a command name" in result.stderr
    assert not (run.tmp / "home" / "pwned-semi").exists()


# -- the prompt segment ------------------------------------------------------------------


@pytest.mark.parametrize("expires_in, expected", [
    (3600 + 30, "r (60m)"), (59 * 60 + 30, "r (59m)"), (30, "r (0m)"), (-5, "r (expired)")])
def test_prompt_segment(run: Run, expires_in: int, expected: str) -> None:
    run.prints(session("r", expires_in=expires_in))
    result = run("assume r\nassumer_prompt\necho '|'\nassumer_prompt ' [%s]'\necho '|'\n")
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"{expected}|\n [{expected}]|\n"


def test_prompt_segment_is_empty_without_a_profile(run: Run) -> None:
    result = run("assumer_prompt ' [%s]'\n" + status(run.shell))
    assert result.stdout == "rc=0\n"


def test_prompt_never_evaluates_the_expiration(run: Run) -> None:
    """bash and zsh arithmetic would run $(...) inside a variable's value: it is checked first."""
    hostile = "a[$(touch pwned-dollar)]+1"
    setter = f"set -gx ASSUMER_EXPIRATION '{hostile}'\nset -gx ASSUMER_PROFILE r\n" if run.shell == "fish" else \
        f"export ASSUMER_EXPIRATION='{hostile}' ASSUMER_PROFILE=r\n"
    result = run(setter + "assumer_prompt\necho\nassume --status\n" + set_var(run.shell, "ASSUMER_AUTO_REFRESH", "1")
                 + hook_call(run.shell))
    assert result.stdout.startswith("r\nr\n"), result.stderr
    assert run.calls() == []
    assert not (run.tmp / "home" / "pwned-dollar").exists()


def test_prompt_starts_no_process(run: Run) -> None:
    """No `date`, no python: a PATH with nothing on it still gives the minutes."""
    run.prints(session("r", expires_in=600 + 30))
    empty = run.tmp / "empty"
    empty.mkdir()
    setter = "set -gx PATH {0}\n" if run.shell == "fish" else "PATH={0}\n"
    result = run("assume r\n" + setter.format(empty) + "assumer_prompt\n")
    assert result.stdout == "r (10m)", result.stderr


# -- refresh at the prompt ------------------------------------------------------------------


def hook_call(shell: str) -> str:
    return {"bash": "__assumer_refresh_hook", "zsh": "__assumer_precmd",
            "fish": "__assumer_refresh"}[shell] + "\n"


def set_var(shell: str, name: str, value: str) -> str:
    return f"set -g {name} {value}\n" if shell == "fish" else f"{name}={value}\n"


def test_refresh_renews_a_session_close_to_expiry(run: Run) -> None:
    run.prints(session("r", expires_in=100))
    body = "assume r\n" + set_var(run.shell, "ASSUMER_AUTO_REFRESH", "1")
    body += hook_call(run.shell) + hook_call(run.shell)  # the second is within the minute: no call
    result = run(body)
    assert result.returncode == 0, result.stderr
    assert run.calls() == [["env", "r", "--shell", run.shell]] * 2


def test_refresh_repeats_the_options_of_the_last_assume(run: Run) -> None:
    """--region or --duration stay as the user chose; a one-time MFA code and --refresh do not."""
    run.prints(session("r", expires_in=100))
    body = ("assume --region eu-west-1 r --mfa-code 123456 --duration 900 --refresh\n"
            + set_var(run.shell, "ASSUMER_AUTO_REFRESH", "1") + hook_call(run.shell))
    result = run(body)
    assert result.returncode == 0, result.stderr
    assert run.calls()[1] == ["env", "--region", "eu-west-1", "r", "--duration", "900", "--shell", run.shell]


def test_refresh_of_a_session_from_elsewhere_names_the_profile_alone(run: Run) -> None:
    """ASSUMER_PROFILE set by something else than this shell's last assume: no old options."""
    run.prints(session("other", expires_in=100))
    setter = "".join(f"set -gx {k} '{v}'\n" if run.shell == "fish" else f"export {k}='{v}'\n"
                     for k, v in session("r", expires_in=100).items())
    result = run("assume other --region x\n" + setter
                 + set_var(run.shell, "ASSUMER_AUTO_REFRESH", "1") + hook_call(run.shell))
    assert result.returncode == 0, result.stderr
    assert run.calls()[1] == ["env", "r", "--shell", run.shell]


def test_refresh_is_opt_in(run: Run) -> None:
    run.prints(session("r", expires_in=100))
    result = run("assume r\n" + hook_call(run.shell))
    assert result.returncode == 0, result.stderr
    assert len(run.calls()) == 1


def test_refresh_waits_for_the_minimum_lifetime(run: Run) -> None:
    run.prints(session("r", expires_in=1000))
    body = "assume r\n" + set_var(run.shell, "ASSUMER_AUTO_REFRESH", "1") + hook_call(run.shell)
    assert len(run.calls()) == 0
    run(body)
    assert len(run.calls()) == 1  # 1000 s left > 900: nothing to do
    run.log.unlink()
    run(body + set_var(run.shell, "ASSUMER_MIN_TTL", "1200") + hook_call(run.shell))
    assert len(run.calls()) == 2  # ASSUMER_MIN_TTL is honoured


@pytest.mark.parametrize(("lifetime", "left", "renewed"), [
    (900, 460, False),  # a 900 s session is served while 450 s are left (issue 10's renewal rule)
    (900, 440, True),
    (3600, 1000, False),  # a long one is renewed below ASSUMER_MIN_TTL (900) as before
    (3600, 880, True),
])
def test_refresh_follows_the_renewal_rule(run: Run, lifetime: int, left: int, renewed: bool) -> None:
    """min(ASSUMER_MIN_TTL, lifetime / 2), lifetime from ASSUMER_OBTAINED, as Credentials.is_fresh decides."""
    variables = session("r", expires_in=left)
    variables["ASSUMER_OBTAINED"] = str(int(variables["ASSUMER_EXPIRATION"]) - lifetime)
    run.prints(variables)
    result = run("assume r\n" + set_var(run.shell, "ASSUMER_AUTO_REFRESH", "1") + hook_call(run.shell))
    assert result.returncode == 0, result.stderr
    assert len(run.calls()) == (2 if renewed else 1)


def test_refresh_failure_says_so_once_and_keeps_the_session(run: Run) -> None:
    run.prints(session("r", expires_in=100))
    fail = "set -gx STUB_RC 6\n" if run.shell == "fish" else "export STUB_RC=6\n"
    body = ("assume r\n" + set_var(run.shell, "ASSUMER_AUTO_REFRESH", "1") + fail
            + hook_call(run.shell) + hook_call(run.shell) + dump(run.shell, "ASSUMER_PROFILE"))
    result = run(body)
    assert result.returncode == 0
    assert result.stderr.count("could not renew the session of profile 'r' (exit 6)") == 1
    assert "ASSUMER_PROFILE=r|" in result.stdout


# -- shell specifics ------------------------------------------------------------------------


def run_in(tmp_path: Path, shell: str) -> Run:
    (tmp_path / "bin").mkdir(exist_ok=True)
    (tmp_path / "home").mkdir(exist_ok=True)
    stub = tmp_path / "bin" / "assumer"
    stub.write_text(STUB)
    stub.chmod(0o755)
    return Run(shell, tmp_path, tmp_path / "calls.jsonl", tmp_path / "out.txt")


@pytest.mark.parametrize("before, expected", [
    ("", "__assumer_refresh_hook"),
    ("PROMPT_COMMAND='history -a'\n", "history -a\n__assumer_refresh_hook"),
    ("PROMPT_COMMAND='a;'\n", "a;\n__assumer_refresh_hook"),
])
def test_bash_prompt_command_is_appended_to(tmp_path: Path, before: str, expected: str) -> None:
    run = run_in(tmp_path, "bash")
    path = ROOT / "shell" / "assumer.bash"
    result = run(before + f". '{path}'\n" + "printf '%s' \"$PROMPT_COMMAND\"")
    assert result.stdout == expected  # sourced twice: appended once


def test_bash_prompt_command_array_form(tmp_path: Path) -> None:
    run = run_in(tmp_path, "bash")
    path = ROOT / "shell" / "assumer.bash"
    result = run(f"PROMPT_COMMAND=(one 'two x')\n. '{path}'\n. '{path}'\n" + "printf '%s|' \"${PROMPT_COMMAND[@]}\"")
    assert result.stdout == "one|two x|__assumer_refresh_hook|"


def test_bash_hook_keeps_the_last_status(tmp_path: Path) -> None:
    run = run_in(tmp_path, "bash")
    run.prints(session("r", expires_in=100))
    result = run("assume r\nASSUMER_AUTO_REFRESH=1\n(exit 42)\n__assumer_refresh_hook\necho $?\n")
    assert result.stdout == "42\n"


def test_bash_refresh_runs_from_prompt_command_in_an_interactive_shell(tmp_path: Path) -> None:
    run = run_in(tmp_path, "bash")
    run.prints(session("r", expires_in=100))
    path = ROOT / "shell" / "assumer.bash"
    script = f". '{path}'\nassume r\nASSUMER_AUTO_REFRESH=1\ntrue\ntrue\n"
    result = subprocess.run(["bash", "--norc", "--noprofile", "-i"], input=script, env=run.env(PS1="$ "),
                            cwd=run.tmp / "home", capture_output=True, text=True, timeout=60)
    assert [c[1] for c in run.calls()] == ["r", "r"], result.stderr


def test_zsh_precmd_functions_are_appended_to(tmp_path: Path) -> None:
    run = run_in(tmp_path, "zsh")
    path = ROOT / "shell" / "assumer.zsh"
    result = run(f"precmd_functions=(mine)\n. '{path}'\n. '{path}'\nprint -r -- $precmd_functions")
    assert result.stdout == "mine __assumer_compdef __assumer_precmd\n"


def test_zsh_refresh_runs_from_precmd_in_an_interactive_shell(tmp_path: Path) -> None:
    run = run_in(tmp_path, "zsh")
    run.prints(session("r", expires_in=100))
    path = ROOT / "shell" / "assumer.zsh"
    script = f". '{path}'\nassume r\nASSUMER_AUTO_REFRESH=1\ntrue\ntrue\n"
    result = subprocess.run(["zsh", "-f", "-i"], input=script, env=run.env(),
                            cwd=run.tmp / "home", capture_output=True, text=True, timeout=60)
    assert [c[1] for c in run.calls()] == ["r", "r"], result.stderr


def test_fish_refresh_is_a_fish_prompt_handler(tmp_path: Path) -> None:
    run = run_in(tmp_path, "fish")
    result = run("functions --handlers-type generic | string match -r '.*__assumer_refresh.*'")
    assert "fish_prompt" in result.stdout and "__assumer_refresh" in result.stdout


# -- tracing, strict modes, no leftovers ----------------------------------------------------


TRACE_ON = {"bash": "set -xv\n", "zsh": "setopt xtrace verbose\n", "fish": "set -g fish_trace 1\n"}
TRACE_OFF = {"bash": "set +xv\n", "zsh": "unsetopt xtrace verbose\n", "fish": "set -e fish_trace\n"}


def test_tracing_never_prints_a_secret_and_is_restored(run: Run) -> None:
    variables = session("r", secret="SECRETVALUE0123", key_id="ASIAKEY0123")
    run.prints(variables)
    result = run(TRACE_ON[run.shell] + "assume r\nassume --status\nassumer_prompt\necho after-assume\n"
                 + TRACE_OFF[run.shell] + "echo done\n")
    assert result.returncode == 0, result.stderr
    for secret in ("SECRETVALUE0123", "TOKEN//xyz=="):
        assert secret not in result.stderr
    assert "echo after-assume" in result.stderr  # tracing is back on after assume


STRICT = {"bash": "set -euo pipefail\n", "zsh": "setopt err_exit no_unset ksh_arrays sh_word_split\n", "fish": ""}


def test_works_sourced_in_a_strict_non_interactive_shell(run: Run) -> None:
    run.prints(session("r"))
    path = ROOT / "shell" / f"assumer.{run.shell}"
    script = (STRICT[run.shell] + (f"source '{path}'\n" if run.shell == "fish" else f". '{path}'\n")
              + "assumer_prompt\nassume r\nassume --status\nassumer_prompt\n" + hook_call(run.shell)
              + "assume r -- true\necho end\n")
    result = subprocess.run([shutil.which(run.shell) or run.shell, "-c", script], env=run.env(),
                            cwd=run.tmp / "home", capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert result.stdout.endswith("r (59m)end\n") or result.stdout.endswith("r (60m)end\n")


LIST_VARIABLES = {"bash": "compgen -v | sort", "zsh": "print -rl -- ${(k)parameters} | sort",
                  "fish": "set -n | sort"}
# Variables the shells themselves change between two listings.
NOISE = {"_", "BASH_COMMAND", "BASH_LINENO", "BASH_SOURCE", "FUNCNAME", "PIPESTATUS", "LINENO",
         "COLUMNS", "LINES", "status", "pipestatus", "history", "_history", "REPLY", "reply",
         "fish_pid", "last_pid", "CMD_DURATION", "status_generation", "fish_kill_signal"}
# The state the scripts keep on purpose between prompts (never exported).
KEPT = {"__ASSUMER_REFRESHED_AT", "__ASSUMER_ARGS", "__ASSUMER_ARGS_FOR",
        "__assumer_refreshed_at", "__assumer_args", "__assumer_args_for"}


def test_no_helper_variable_leaks(run: Run) -> None:
    run.prints(session("r", expires_in=100))
    listing = LIST_VARIABLES[run.shell]
    body = (f"{listing} > before.txt\n"
            + set_var(run.shell, "ASSUMER_AUTO_REFRESH", "1")
            + "assume r\nassume --status\nassumer_prompt\nassume r -- true\n" + hook_call(run.shell)
            + f"{listing} > after.txt\nenv > env.txt\n")
    result = run(body)
    assert result.returncode == 0, result.stderr
    home = run.tmp / "home"
    before = set((home / "before.txt").read_text().split())
    after = set((home / "after.txt").read_text().split())
    new = {n for n in after - before if not n.startswith(("AWS_", "ASSUMER_"))} - NOISE
    assert new <= KEPT
    assert "__assumer" not in (home / "env.txt").read_text().lower()  # nothing of ours is exported
    if run.shell == "zsh":
        assert (home / "after.txt").read_text().count("REPLY") == (home / "before.txt").read_text().count("REPLY")


# -- the files themselves ------------------------------------------------------------------


@pytest.mark.parametrize("argv", [["bash", "-n"], ["zsh", "-n"], ["fish", "--no-execute"]])
def test_syntax(argv: list[str]) -> None:
    path = ROOT / "shell" / f"assumer.{argv[0]}"
    result = subprocess.run([*argv, str(path)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0 and result.stderr == "", result.stderr


def test_bash_script_passes_shellcheck() -> None:
    # tests/run.sh installs shellcheck; a missing one is a broken set-up, not a skip.
    assert shutil.which("shellcheck"), "shellcheck is not installed (bash tests/run.sh installs it)"
    result = subprocess.run(["shellcheck", "-s", "bash", str(ROOT / "shell" / "assumer.bash")],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout


def test_zsh_prompt_segment_escapes_percent_for_prompt_subst(tmp_path: Path) -> None:
    """With prompt_subst, a % in the output is a prompt escape: -p doubles it."""
    run = run_in(tmp_path, "zsh")
    run.prints(session("a%b", expires_in=600 + 30))
    result = run("assume r\nassumer_prompt -p '[%s]'\necho\nprint -rP -- \"$(assumer_prompt -p)\"\n")
    assert result.stdout.splitlines() == ["[a%%b (10m)]", "a%b (10m)"]
