"""Immutable records with named fields, defined without ``compile()``.

``typing.NamedTuple`` and ``dataclasses`` build each class's ``__new__``/``__init__``
from source text with ``eval``/``exec``; the first such call in a process
initialises CPython's compiler (about 1 ms here) and each class costs about 0.1 ms
more. The records a cache hit builds (the credentials, the chain's links, the
config values) are subclasses of :class:`Record` instead: the class statement
declares the fields as annotations, with defaults as plain class attributes, and
:meth:`Record.__init_subclass__` records them once, with no code generated.

A record is immutable, compares and hashes by its class and values, and has
NamedTuple's ``_fields``, ``_replace`` and ``_asdict``. It is not a tuple:
it cannot be unpacked or indexed (mypy checks that no caller does).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:
    from typing_extensions import Self, dataclass_transform
else:
    def dataclass_transform(**_options: object) -> object:
        return lambda cls: cls

__all__ = ["Record"]

_MISSING = object()


@dataclass_transform(eq_default=True, frozen_default=True)
class Record:
    """Base class: subclasses declare ``name: type`` fields, optionally ``= default``, in order."""

    _fields: ClassVar[tuple[str, ...]] = ()
    _defaults: ClassVar[dict[str, object]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        # Own annotations (a string each under `from __future__ import annotations`: never evaluated).
        # (inspect.get_annotations would import inspect, about 3 ms, on every cache hit.)
        own = [name for name, kind in cls.__dict__.get("__annotations__", {}).items()  # noqa: RUF063
               if not str(kind).startswith("ClassVar")]
        cls._fields = (*cls._fields, *own)
        cls._defaults = {**cls._defaults, **{name: cls.__dict__[name] for name in own if name in cls.__dict__}}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        fields = self._fields
        if len(args) > len(fields):
            raise TypeError(f"{type(self).__name__} takes {len(fields)} fields, {len(args)} given")
        values = dict(zip(fields, args, strict=False))  # fewer values than fields: defaults follow
        for name, value in kwargs.items():
            if name not in fields or name in values:
                raise TypeError(f"{type(self).__name__}: unexpected or repeated field {name!r}")
            values[name] = value
        for name in fields:
            if name not in values:
                default = self._defaults.get(name, _MISSING)
                if default is _MISSING:
                    raise TypeError(f"{type(self).__name__}: missing field {name!r}")
                values[name] = default
        object.__setattr__(self, "__dict__", values)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"{type(self).__name__} is immutable: use _replace()")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"{type(self).__name__} is immutable")

    def _values(self) -> tuple[object, ...]:
        return tuple(self.__dict__[name] for name in self._fields)

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return self.__dict__ == other.__dict__

    def __hash__(self) -> int:
        return hash((type(self), self._values()))

    def __repr__(self) -> str:
        shown = ", ".join(f"{name}={self.__dict__[name]!r}" for name in self._fields)
        return f"{type(self).__name__}({shown})"

    def __reduce__(self) -> tuple[object, tuple[object, ...]]:  # copy and pickle: rebuilt through __init__
        return type(self), self._values()

    def _replace(self, **changes: Any) -> Self:
        """A copy with ``changes`` applied, as NamedTuple's ``_replace``."""
        return type(self)(**{**self.__dict__, **changes})

    def _asdict(self) -> dict[str, Any]:
        """The fields and their values, in field order."""
        return dict(self.__dict__)
