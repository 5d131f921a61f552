"""``json.dumps`` and ``json.loads`` for a cache hit, without importing :mod:`json`.

Importing ``json`` compiles five regular expressions (its decoder's and encoder's),
about 1.7 ms of every cache hit on this project's machines, while the work itself
is done by the C accelerator ``_json`` that ``json`` wraps. These functions call
that accelerator the way ``json``'s own ``JSONEncoder.encode`` (one-shot, no
indent) and ``JSONDecoder.decode`` do, so the text is the same byte for byte
(``tests/unit/test_fastjson.py`` compares them on generated documents). On an
interpreter without ``_json``, or one whose accelerator takes other arguments,
they are ``json`` itself.

Only what the hit path needs: ``dumps`` without ``indent``, ``loads`` of a str.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

__all__ = ["dumps", "loads"]

_WHITESPACE = " \t\n\r"  # JSON's whitespace, as json.decoder's WHITESPACE pattern has it


def _not_serializable(value: object) -> object:
    raise TypeError(f"Object of type {value.__class__.__name__} is not JSON serializable")


class _DecoderSettings:
    """What ``_json.make_scanner`` reads from a ``json.JSONDecoder``: its defaults."""

    strict = True
    object_hook = None
    object_pairs_hook = None
    parse_float = float
    parse_int = int
    parse_constant = {"-Infinity": float("-inf"), "Infinity": float("inf"), "NaN": float("nan")}.__getitem__


_scan: Callable[[str, int], tuple[object, int]] | None
try:
    from _json import encode_basestring_ascii, make_encoder, make_scanner

    _settings: Any = _DecoderSettings()  # duck-typed: make_scanner reads the attributes only
    _scan = make_scanner(_settings)
    make_encoder({}, _not_serializable, encode_basestring_ascii, None, ": ", ", ", False, False, True)
except (ImportError, TypeError):  # another interpreter: json itself
    _scan = None


def dumps(value: object, *, sort_keys: bool = False, separators: tuple[str, str] | None = None,
          default: Callable[[object], object] | None = None) -> str:
    """``json.dumps(value, sort_keys=..., separators=..., default=...)``, same text."""
    item_separator, key_separator = separators or (", ", ": ")
    if _scan is None:
        import json

        return json.dumps(value, sort_keys=sort_keys, separators=(item_separator, key_separator), default=default)
    if isinstance(value, str):
        return encode_basestring_ascii(value)
    encode = make_encoder({}, default or _not_serializable, encode_basestring_ascii, None, key_separator,
                          item_separator, sort_keys, False, True)
    return "".join(encode(value, 0))


def loads(text: str) -> object:
    """``json.loads(text)`` for a str; ValueError (json's own JSONDecodeError) on malformed text."""
    if _scan is None or text.startswith("\ufeff"):
        import json

        return json.loads(text)
    start = len(text) - len(text.lstrip(_WHITESPACE))
    try:
        value, end = _scan(text, start)
    except StopIteration as stopped:
        return _error("Expecting value", text, stopped.value)
    except SystemError:
        # The accelerator raises its own parse errors with the JSONDecodeError class it finds in
        # sys.modules["json.decoder"]; before json is imported it finds none and this is what comes
        # out. json itself then gives the error it would have given.
        import json

        return json.loads(text)
    if text[end:].strip(_WHITESPACE):
        return _error("Extra data", text, len(text) - len(text[end:].lstrip(_WHITESPACE)))
    return value


def _error(message: str, text: str, position: int) -> object:
    """Raise json's JSONDecodeError (a ValueError), as json.loads would; only on malformed text."""
    from json import JSONDecodeError

    raise JSONDecodeError(message, text, position)
