"""An interactive profile picker on the terminal: type to filter (fuzzy), arrows to move, Enter to pick.

It draws on and reads from ``/dev/tty``, not stdin/stdout, so it works inside
``eval "$(assumer env)"``, whose stdout is captured. Esc or Ctrl-C cancels
(KeyboardInterrupt: exit 130, nothing changed). Never on the cache-hit path.

A small one of our own rather than a library: the ones that fuzzy-filter
(prompt_toolkit, InquirerPy) bring a large dependency and ~100 ms of import for
one list; this needs termios and a few ANSI sequences.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import NamedTuple

VISIBLE = 10  # rows of choices shown at once
_KEYS_UP = (b"\x1b[A", b"\x1bOA", b"\x10")  # arrow up (normal and application mode), Ctrl-P
_KEYS_DOWN = (b"\x1b[B", b"\x1bOB", b"\x0e")  # arrow down, Ctrl-N
_KEYS_CANCEL = (b"\x1b", b"\x03", b"\x04")  # Esc, Ctrl-C, Ctrl-D
_KEYS_ENTER = (b"\r", b"\n")
_KEYS_ERASE = (b"\x7f", b"\x08")
_KEY_CLEAR = b"\x15"  # Ctrl-U


class Choice(NamedTuple):
    """A profile, and what tells it apart from similar names (its role and account)."""

    name: str
    detail: str = ""


def fuzzy_score(query: str, text: str) -> int | None:
    """How well ``query`` matches ``text`` as a subsequence (higher is better), or None.

    Case-insensitive. Rewards consecutive letters, a match at the start or after a
    separator, and a shorter text; a plain substring beats a scattered match.
    """
    if not query:
        return 0
    needle, hay = query.lower(), text.lower()
    score, position, previous = 0, 0, -2
    for char in needle:
        found = hay.find(char, position)
        if found < 0:
            return None
        score += 1
        if found == previous + 1:
            score += 5  # consecutive
        if found == 0 or hay[found - 1] in "-_./: ":
            score += 3  # start of a word
        previous, position = found, found + 1
    if needle in hay:
        score += 10 + (5 if hay.startswith(needle) else 0)
    return score * 100 - len(hay)


def ranked(choices: Sequence[Choice], query: str) -> list[Choice]:
    """The choices whose name matches ``query``, best first (the detail is shown, not searched)."""
    scored = []
    for index, choice in enumerate(choices):
        score = fuzzy_score(query, choice.name)
        if score is not None:
            scored.append((-score, index, choice))
    return [choice for _, _, choice in sorted(scored)]


def split_keys(data: bytes) -> list[bytes]:
    """One read can hold several keys (typed fast, pasted): escape sequences, control bytes, characters."""
    keys: list[bytes] = []
    index = 0
    while index < len(data):
        if data[index:index + 1] == b"\x1b" and data[index + 1:index + 2] in (b"[", b"O") and index + 2 < len(data):
            end = index + 2
            while end < len(data) and not 0x40 <= data[end] <= 0x7E:  # CSI parameters, up to the final byte
                end += 1
            keys.append(data[index:end + 1])
            index = end + 1
        elif data[index] < 0x80:
            keys.append(data[index:index + 1])
            index += 1
        else:  # a UTF-8 character: its lead byte says how long it is
            length = 2 if data[index] < 0xE0 else 3 if data[index] < 0xF0 else 4
            keys.append(data[index:index + length])
            index += length
    return keys


class Screen:
    """What is drawn: the query line and a window of the matches, the highlighted one marked."""

    def __init__(self, choices: Sequence[Choice], prompt: str) -> None:
        self.choices = list(choices)
        self.prompt = prompt
        self.query = ""
        self.matches = list(choices)
        self.selected = 0

    def key(self, data: bytes) -> str | None:
        """Apply one key; the picked name on Enter, KeyboardInterrupt on cancel, else None."""
        if data in _KEYS_ENTER:
            return self.matches[self.selected].name if self.matches else None
        if data in _KEYS_CANCEL:
            raise KeyboardInterrupt
        if data in _KEYS_UP:
            self.selected = max(self.selected - 1, 0)
        elif data in _KEYS_DOWN:
            self.selected = min(self.selected + 1, max(len(self.matches) - 1, 0))
        elif data in _KEYS_ERASE:
            self._filter(self.query[:-1])
        elif data == _KEY_CLEAR:
            self._filter("")
        else:
            typed = data.decode(errors="ignore")
            if typed and typed.isprintable() and not typed.startswith("\x1b"):
                self._filter(self.query + typed)
        return None

    def _filter(self, query: str) -> None:
        self.query = query
        self.matches = ranked(self.choices, query)
        self.selected = 0

    def lines(self, width: int) -> list[str]:
        """The rows to draw, each cut to ``width``."""
        top = max(0, min(self.selected - VISIBLE + 1, len(self.matches) - VISIBLE))
        rows = [f"{self.prompt}{self.query}"]
        name_width = max((len(c.name) for c in self.matches[top:top + VISIBLE]), default=0)
        for index, choice in enumerate(self.matches[top:top + VISIBLE], top):
            marker = ">" if index == self.selected else " "
            detail = f"  {choice.detail}" if choice.detail else ""
            rows.append(f"{marker} {choice.name:<{name_width}}{detail}")
        if not self.matches:
            rows.append("  (no profile matches)")
        count = f"  {len(self.matches)}/{len(self.choices)}"
        rows[0] += count
        return [row[:max(width - 1, 10)] for row in rows]


def pick(choices: Sequence[Choice], *, prompt: str = "profile> ", tty_path: str = "/dev/tty") -> str:
    """Let the person at the terminal pick one of ``choices``; OSError when there is no terminal."""
    import termios

    fd = os.open(tty_path, os.O_RDWR | os.O_NOCTTY)
    try:
        saved = termios.tcgetattr(fd)
        raw = termios.tcgetattr(fd)
        raw[3] &= ~(termios.ICANON | termios.ECHO | termios.ISIG)  # keys one by one; Ctrl-C as a key
        raw[6][termios.VMIN], raw[6][termios.VTIME] = 1, 0
        termios.tcsetattr(fd, termios.TCSADRAIN, raw)
        screen = Screen(choices, prompt)
        try:
            while True:
                _draw(fd, screen)
                data = os.read(fd, 64)
                if not data:  # the terminal hung up: nobody is there to pick
                    raise KeyboardInterrupt
                for key in split_keys(data):
                    picked = screen.key(key)
                    if picked is not None:
                        return picked
        finally:
            termios.tcsetattr(fd, termios.TCSADRAIN, saved)  # first: the terminal must never stay raw
            try:
                _erase(fd)
            except OSError:
                pass
    finally:
        os.close(fd)


def _draw(fd: int, screen: Screen) -> None:
    """Redraw from the query row (where the cursor always rests) down, then rest there again."""
    try:
        width = os.get_terminal_size(fd).columns
    except OSError:
        width = 0
    if width <= 0:  # a terminal that never said its size (a fresh pty): $COLUMNS, else 80
        width = int(os.environ["COLUMNS"]) if os.environ.get("COLUMNS", "").isdigit() else 80
    rows = screen.lines(width)
    text = "\r\x1b[J" + "\r\n".join(rows)
    if len(rows) > 1:
        text += f"\x1b[{len(rows) - 1}A"
    column = min(len(screen.prompt) + len(screen.query), width - 1)
    text += "\r" + (f"\x1b[{column}C" if column else "")
    os.write(fd, text.encode(errors="replace"))


def _erase(fd: int) -> None:
    os.write(fd, b"\r\x1b[J")
