"""Durations as people type them: ``3600``, ``3600s``, ``90m``, ``1h``, ``1h30m``."""

from __future__ import annotations

import re

_PART = re.compile(r"(\d+)([hms])")
_UNIT = {"h": 3600, "m": 60, "s": 1}


def parse_duration(text: str) -> int:
    """Seconds in ``text``: plain seconds, or hours, minutes and seconds in that order (``1h30m``).

    ValueError names what is wrong; the range (STS's 900..43200) is checked elsewhere,
    with the config file's ``duration_seconds``.
    """
    value = text.strip().lower()
    if value.isdigit():
        return int(value)
    parts = _PART.findall(value)
    if not parts or "".join(number + unit for number, unit in parts) != value:
        raise ValueError(f"{text!r} is not a duration (examples: 3600, 3600s, 90m, 1h, 1h30m)")
    units = [unit for _, unit in parts]
    if len(set(units)) != len(units) or units != sorted(units, key="hms".index):
        raise ValueError(f"{text!r}: give hours, minutes and seconds once each, in that order")
    return sum(int(number) * _UNIT[unit] for number, unit in parts)
