"""assumer.fastjson gives json's own text and values, without importing json on a cache hit.

The oracle is the json module itself: every generated document must encode to the
same text as ``json.dumps`` with the same options, and every text (valid or not)
must decode to the same value, or fail with the same message, as ``json.loads``.
"""

from __future__ import annotations

import json
import math
import random
import string
import sys

import pytest

from assumer import fastjson

ALPHABET = string.printable + "\u00e9\u4e2d\U0001f600\u2028\x00\x7f\ud800"


def text(rng: random.Random) -> str:
    return "".join(rng.choice(ALPHABET) for _ in range(rng.randrange(0, 12)))


def document(rng: random.Random, depth: int = 0) -> object:
    kinds = ["str", "int", "float", "none", "bool"] + (["list", "dict"] * 2 if depth < 3 else [])
    kind = rng.choice(kinds)
    if kind == "str":
        return text(rng)
    if kind == "int":
        return rng.choice([0, -1, 7, 2**63, -(2**70), rng.randrange(-10**6, 10**6)])
    if kind == "float":
        return rng.choice([0.5, -2.25, 1e300, 1.0, rng.random(), math.inf, -math.inf])
    if kind == "none":
        return None
    if kind == "bool":
        return rng.random() < 0.5
    if kind == "list":
        return [document(rng, depth + 1) for _ in range(rng.randrange(0, 5))]
    return {text(rng): document(rng, depth + 1) for _ in range(rng.randrange(0, 5))}


@pytest.mark.parametrize("seed", range(200))
@pytest.mark.parametrize("options", [
    {}, {"sort_keys": True}, {"separators": (",", ":")}, {"sort_keys": True, "default": str},
])
def test_dumps_gives_json_dumps_text(seed: int, options: dict[str, object]) -> None:
    value = document(random.Random(seed))  # noqa: S311 - reproducible test data, not a secret
    assert fastjson.dumps(value, **options) == json.dumps(value, **options)  # type: ignore[arg-type]


def test_dumps_calls_default_for_what_json_cannot_encode_and_refuses_without_it() -> None:
    value = [1, {"a": 1j}, {3}]
    assert fastjson.dumps(value, default=str) == json.dumps(value, default=str)
    with pytest.raises(TypeError, match="not JSON serializable"):
        fastjson.dumps(value)


@pytest.mark.parametrize("seed", range(200))
def test_loads_gives_json_loads_values(seed: int) -> None:
    rng = random.Random(seed)  # noqa: S311 - reproducible test data, not a secret
    encoded = json.dumps(document(rng), indent=rng.choice([None, 1, "\t"]))
    padded = rng.choice(["", " ", "\n\t"]) + encoded + rng.choice(["", "\r\n", "  "])
    assert repr(fastjson.loads(padded)) == repr(json.loads(padded))  # repr: NaN != NaN


@pytest.mark.parametrize("bad", [
    "", "   ", "{", '{"a": 1} x', '{"a": 1}{}', "[1,]", "'x'", '"\\x"', "\ufeff{}", '{"a": 1', "nul", "01",
    '"tab\there"', "[1] \x0c",
])
def test_loads_fails_as_json_loads_does(bad: str) -> None:
    with pytest.raises(json.JSONDecodeError) as expected:
        json.loads(bad)
    with pytest.raises(json.JSONDecodeError) as got:
        fastjson.loads(bad)
    assert (got.value.msg, got.value.pos) == (expected.value.msg, expected.value.pos)


@pytest.mark.parametrize("bad", ['{', '{"a" 1}', '"\\x"', '[1,]', '{"a": 1} x'])
def test_loads_fails_as_json_loads_does_in_a_process_without_json(monkeypatch: pytest.MonkeyPatch, bad: str) -> None:
    """A cache hit has not imported json: the accelerator's own errors must still be json's."""
    with pytest.raises(json.JSONDecodeError) as expected:
        json.loads(bad)
    for name in [name for name in sys.modules if name == "json" or name.startswith("json.")]:
        monkeypatch.delitem(sys.modules, name)
    with pytest.raises(ValueError) as got:
        fastjson.loads(bad)
    assert type(got.value).__name__ == "JSONDecodeError"
    assert (got.value.msg, got.value.pos) == (expected.value.msg, expected.value.pos)  # type: ignore[attr-defined]


def test_the_constants_json_accepts_are_read_the_same() -> None:
    text_ = '[NaN, Infinity, -Infinity, 1e999, -0.0, 12345678901234567890]'
    assert repr(fastjson.loads(text_)) == repr(json.loads(text_))
