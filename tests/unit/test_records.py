"""Record: what typing.NamedTuple gave the hit path's value classes, without compile() at import."""

from __future__ import annotations

import copy
import pickle
import sys

import pytest

from assumer.records import Record


class Point(Record):
    x: int
    y: int = 0
    label: str | None = None


class Other(Record):
    x: int
    y: int = 0
    label: str | None = None


def test_fields_defaults_and_keywords_as_namedtuple() -> None:
    assert Point._fields == ("x", "y", "label")
    assert Point(1) == Point(x=1, y=0, label=None) == Point(1, 0)
    assert Point(1, label="a").label == "a"
    assert Point(1, 2)._replace(label="b") == Point(1, 2, "b")
    assert list(Point(label="l", x=1)._asdict().items()) == [("x", 1), ("y", 0), ("label", "l")]  # field order
    assert repr(Point(1, 2, "a")) == "Point(x=1, y=2, label='a')"


@pytest.mark.parametrize(("args", "kwargs"), [
    ((), {}), ((1, 2, None, 4), {}), ((1,), {"x": 2}), ((1,), {"z": 1}),
])
def test_wrong_arguments_are_a_type_error(args: tuple[object, ...], kwargs: dict[str, object]) -> None:
    with pytest.raises(TypeError):
        Point(*args, **kwargs)  # type: ignore[misc]


def test_immutable_hashable_and_equal_only_to_its_own_class() -> None:
    point = Point(1)
    with pytest.raises(AttributeError):
        point.x = 2  # type: ignore[misc]
    with pytest.raises(AttributeError):
        del point.x
    with pytest.raises(TypeError):
        vars(point)  # no instance dict: nothing to write to, and no way round a redacting repr
    assert hash(Point(1, 2)) == hash(Point(1, 2))
    assert len({Point(1), Point(1), Point(2)}) == 2
    assert Point(1) != Other(1)
    assert Point(1) != (1, 0, None)


def test_copy_and_pickle_round_trip() -> None:
    point = Point(1, 2, "a")
    assert copy.copy(point) == point and copy.deepcopy(point) == point
    assert pickle.loads(pickle.dumps(point)) == point  # noqa: S301 - our own bytes


def test_defining_a_record_compiles_nothing() -> None:
    """The point of Record: no eval/exec, so a cache hit never starts CPython's compiler."""
    calls: list[str] = []
    listening = [True]

    def audit(event: str, _args: object) -> None:  # an audit hook cannot be removed: it goes quiet after
        if listening[0] and event in ("compile", "exec"):
            calls.append(event)

    sys.addaudithook(audit)
    try:
        class Later(Record):
            a: str
            b: int = 1

        Later("x")._replace(b=2)
        from typing import NamedTuple

        assert calls == []

        class Control(NamedTuple):  # the audit hook does see what a NamedTuple compiles
            a: str

        assert calls
    finally:
        listening[0] = False
