"""The AWS config and credentials files' INI dialect, read exactly as botocore reads it.

botocore reads them with ``configparser.RawConfigParser`` and parses a value that
starts on the next line as a nested block. :class:`IniFile` finds the same sections,
keys and values, refuses the same files (file:line), and parses a section's keys
only when it is asked for, so a file with thousands of profiles costs little more
than one with two.
"""

from __future__ import annotations

import re

from assumer.errors import ConfigError
from assumer.records import Record

# configparser's SECTCRE and OPTCRE, matched against a stripped line as it does: the
# header runs to the last "]" (text after it is ignored), the key to the first "=" or ":".
_SECTION = r"\[(.+)\]"  # text, compiled at first use: only the slow path matches it
_KEY_VALUE = re.compile(r"(.*?)\s*[=:]\s*(.*)$")
# The fast path (IniFile._fast_scan), on the text with a newline in front, each a C-level
# pass: an indented line (a continuation, or keys indented); and every line that is not
# blank or a comment, as a header's name, a key's name, or the first character of a
# line botocore refuses (no "=" or ":", an empty key, a "[" that opens no header).
_INDENTED = re.compile(r"\n[^\S\n]+\S")
_LINES = re.compile(r"\n(?:\[(.+)\]|([^\s#;\[=:][^=:\n]*)[=:]|([^\s#;]))")
_HEADER_AT = re.compile(r"\n\[(.+)\]")

_SECRET_LIKE = r"[A-Za-z0-9/+=]{16,}"  # noqa: S105 - a pattern, not a password; text, compiled at first use


def shown_line(line: str) -> str:
    """A malformed line as an error quotes it, key-shaped runs masked: it may hold a secret key."""
    return re.sub(_SECRET_LIKE, "***", line.strip())


class Value(Record):
    """A config value and where it came from, so errors can point at the line."""

    text: str
    path: str
    line: int

    @property
    def where(self) -> str:
        return f"{self.path}:{self.line}"


class IniFile:
    """A lazily parsed INI file in exactly the dialect botocore reads.

    botocore reads the AWS files with ``configparser.RawConfigParser()`` (strict:
    a duplicate section or key anywhere refuses the whole file) and then parses
    every value that starts with a newline as a nested block. :meth:`_scan` walks
    the lines once, as configparser's ``_read`` does, to find the sections, the
    key names (for duplicates) and every line botocore would refuse, each as one
    file:line error; the values of a section are joined only when a chain asks
    for that section (:meth:`section`). Most files have no indented line: for
    those, :meth:`_fast_scan` makes the same checks in a few passes of regular
    expressions and keeps each section as a span of the text, read when asked for.
    """

    def __init__(self, path: str, text: str) -> None:
        self.path = path
        # Section name -> its keys in file order: (line, key, value lines); [DEFAULT] apart.
        self._raw: dict[str, list[tuple[int, str, list[str]]]] = {}
        self._defaults: list[tuple[int, str, list[str]]] = []
        self._parsed: dict[str, dict[str, Value]] = {}
        # The fast path's sections: name -> (start, end, line number of start) in _text, [DEFAULT]'s too.
        self._spans: dict[str, tuple[int, int, int]] = {}
        self._text = ""
        if "\r" in text:  # the file was read with universal newlines; a test may hand in raw text
            text = text.replace("\r\n", "\n").replace("\r", "\n")
        if not self._fast_scan(text):
            self._spans = {}
            self._scan(text)

    @classmethod
    def load(cls, path: str) -> IniFile:
        """Read ``path``; a missing file (or no path at all) is an empty one, an unreadable one an error."""
        if not path:
            return cls(path, "")
        try:
            # Universal newlines, as configparser reads it: \\r\\n and \\r end a line too.
            with open(path, encoding="utf-8") as handle:
                text = handle.read()
        except FileNotFoundError:
            text = ""
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"cannot read {path}: {exc}", hint="check the file's permissions and encoding") from None
        return cls(path, text)

    def _error(self, number: int, what: str, line: str, hint: str = "fix or comment out that line") -> ConfigError:
        return ConfigError(f"{self.path}:{number}: {what} {shown_line(line)!r}", hint=hint)

    def _fast_scan(self, text: str) -> bool:
        """The whole file checked at C speed when no line is indented; False: :meth:`_scan` decides.

        Without an indented line there is no continuation and no nested block, so
        botocore refuses such a file only for a line that is not ``key = value``, a
        setting before the first section, or a repeated section or key: each is
        looked for here, and any doubt goes to the line-by-line scan, which names
        the line.
        """
        text = "\n" + text
        if _INDENTED.search(text):
            return False
        found = _LINES.findall(text)
        if found and not found[0][0]:
            return False  # a setting before the first section
        keys: set[str] = set()
        sections: set[str] = set()
        for header, name, refused in found:
            if header:
                if header in sections:
                    return False
                sections.add(header)
                keys = set()
            elif refused:
                return False
            else:
                key = name.rstrip().lower()
                if key in keys:
                    return False
                keys.add(key)
        headers = list(_HEADER_AT.finditer(text))
        ends = [match.start() for match in headers[1:]] + [len(text)] if headers else []
        # Line numbers counted once, header to header (_text starts with an extra newline).
        position, number = 0, 0
        for match, end in zip(headers, ends, strict=True):
            start = text.find("\n", match.end()) + 1 or len(text)
            number += text.count("\n", position, start)
            position = start
            self._spans[match.group(1)] = (start, max(start, end), number)
        self._text = text
        default = self._spans.pop("DEFAULT", None)
        if default is not None:
            self._defaults = self._span_keys(default)
        return True

    def _span_keys(self, span: tuple[int, int, int]) -> list[tuple[int, str, list[str]]]:
        """A fast-path section's keys: every line in it is blank, a comment or ``key = value``."""
        start, end, number = span
        number -= 1
        keys = []
        for line in self._text[start:end].split("\n"):
            number += 1
            value = line.strip()
            if value and value[0] not in "#;":
                match = _KEY_VALUE.match(value)
                if match:
                    keys.append((number, match.group(1).lower(), [match.group(2).strip()]))
        return keys

    def _scan(self, text: str) -> None:
        lines = text.split("\n")
        if lines and lines[-1] == "":
            lines.pop()
        current: list[tuple[int, str, list[str]]] | None = None
        keys: set[str] = set()
        seen_keys: dict[str, set[str]] = {}
        option: list[str] | None = None  # the value lines of the key being read (continuations join it)
        indent_level = 0
        # botocore parses [DEFAULT]'s values only through a section: its error counts if there is one.
        default_error: ConfigError | None = None
        for number, line in enumerate(lines, 1):
            value = line.strip()
            if not value:
                if option is not None:
                    option.append("")  # configparser keeps empty lines inside a value
                continue
            if value[0] in "#;":
                continue  # a comment line, even inside a value; it does not end the value
            indent = 0 if value is line else len(line) - len(line.lstrip())  # strip() returns an unpadded line
            if option is not None and indent > indent_level:
                if option[0] == "" and "=" not in value:
                    # botocore parses a value that starts on the next line as "key = value" lines.
                    error = self._error(number, "expected 'key = value' in a nested block, found", line)
                    if current is not self._defaults:
                        raise error
                    default_error = default_error or error
                option.append(value)
                continue
            indent_level = indent
            header = re.match(_SECTION, value) if value[0] == "[" else None
            if header:
                name = header.group(1)
                if name == "DEFAULT":
                    current, keys = self._defaults, seen_keys.setdefault(name, set())
                elif name in self._raw:
                    raise self._error(number, "section repeated:", line,
                                      hint="botocore refuses a file that repeats a section; merge the two")
                else:
                    current = self._raw[name] = []
                    keys = seen_keys[name] = set()
                option = None
                continue
            if current is None:
                raise ConfigError(
                    f"{self.path}:{number}: a setting before any [section]",
                    hint="put it under a [profile NAME] header",
                )
            match = _KEY_VALUE.match(value)
            name, text = match.groups() if match else ("", "")
            if not name:
                raise self._error(number, "expected 'key = value', found", line)
            key = name.rstrip().lower()
            if key in keys:
                raise self._error(number, f"key {key!r} repeated in its section:", line,
                                  hint="botocore refuses a file that repeats a key in a section; keep one")
            keys.add(key)
            option = [text.strip()]
            current.append((number, key, option))
        if default_error is not None and self._raw:
            raise default_error

    def sections(self) -> list[str]:
        """Section names in file order ([DEFAULT] is not a section: its keys are in every section)."""
        return list(self._spans or self._raw)

    def has_section(self, name: str) -> bool:
        return name in self._spans or name in self._raw

    def section(self, name: str) -> dict[str, Value]:
        """The keys of one section, [DEFAULT]'s under them, values joined as configparser joins them.

        A nested block (``s3 =`` followed by indented lines) keeps its text, starting
        with a newline, as botocore's raw value does before it parses the block.
        """
        parsed = self._parsed.get(name)
        if parsed is None:
            parsed = {}
            span = self._spans.get(name)
            own = self._span_keys(span) if span is not None else self._raw.get(name, ())
            for number, key, parts in (*own, *self._defaults):
                if key not in parsed:
                    parsed[key] = Value("\n".join(parts).rstrip(), self.path, number)
            self._parsed[name] = parsed
        return parsed
