"""Immutable records with named fields, defined without ``compile()``.

``typing.NamedTuple`` and ``dataclasses`` build each class's ``__new__``/``__init__``
from source text with ``eval``/``exec``: each class costs a ``compile()``, about
0.1 ms on a cache hit (more for the first one, when nothing earlier in the process,
such as ``functools``' own namedtuple, has started the compiler). The records a
cache hit builds (the credentials, the chain's links, the config values) are
subclasses of :class:`Record` instead: the class statement declares the fields as
annotations, with defaults as plain class attributes, and
:meth:`Record.__init_subclass__` records them once, with no code generated.

A record is immutable (its values are a tuple in a slot, each field a read-only
property), compares and hashes by its class and values, and has NamedTuple's
``_fields``, ``_replace`` and ``_asdict``. It is not a tuple: it cannot be
unpacked or indexed (mypy checks that no code in ``assumer/`` does; the tests
exercise the rest).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:
    from typing_extensions import Self, dataclass_transform
else:
    def dataclass_transform(**_options: object) -> object:
        return lambda cls: cls

__all__ = ["Record"]


class _NoInstanceDict(type):
    """Gives every Record class an empty ``__slots__``: no per-instance ``__dict__`` to write to or dump."""

    def __new__(mcs, name: str, bases: tuple[type, ...], namespace: dict[str, Any], **kwargs: Any) -> type:
        namespace.setdefault("__slots__", ())
        return super().__new__(mcs, name, bases, namespace, **kwargs)


@dataclass_transform(eq_default=True, frozen_default=True)
class Record(metaclass=_NoInstanceDict):
    """Base class: subclasses declare ``name: type`` fields, optionally ``= default``, in order."""

    # The values, in field order; each field reads its own through a property.
    __slots__ = ("_record_values",)
    _record_values: tuple[Any, ...]
    _fields: ClassVar[tuple[str, ...]] = ()
    _defaults: ClassVar[dict[str, object]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        # Own annotations: a string each under `from __future__ import annotations`, never
        # evaluated (inspect.get_annotations would import inspect, about 3 ms, on every cache hit).
        annotations = cls.__dict__.get("__annotations__")  # noqa: RUF063
        if annotations is None and "__annotate__" in cls.__dict__:  # Python 3.14's lazy annotations
            raise TypeError(f"{cls.__name__}: a Record's module needs 'from __future__ import annotations'")
        own = [name for name, kind in (annotations or {}).items() if not _is_class_variable(kind)]
        cls._defaults = {**cls._defaults, **{name: cls.__dict__[name] for name in own if name in cls.__dict__}}
        cls._fields = (*cls._fields, *own)
        for index, name in enumerate(cls._fields):
            setattr(cls, name, _field(index, name))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        fields = self._fields
        if len(args) > len(fields):
            raise TypeError(f"{type(self).__name__} takes {len(fields)} fields, {len(args)} given")
        values = list(args)
        for name in fields[len(args):]:
            if name in kwargs:
                values.append(kwargs.pop(name))
            elif name in self._defaults:
                values.append(self._defaults[name])
            else:
                raise TypeError(f"{type(self).__name__}: missing field {name!r}")
        if kwargs:
            raise TypeError(f"{type(self).__name__}: unexpected or repeated fields {sorted(kwargs)}")
        object.__setattr__(self, "_record_values", tuple(values))

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"{type(self).__name__} is immutable: use _replace()")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"{type(self).__name__} is immutable")

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return self._record_values == other._record_values

    def __hash__(self) -> int:
        return hash((type(self), self._record_values))

    def __repr__(self) -> str:
        shown = ", ".join(f"{name}={value!r}" for name, value in zip(self._fields, self._record_values, strict=True))
        return f"{type(self).__name__}({shown})"

    def __reduce__(self) -> tuple[object, tuple[object, ...]]:  # copy and pickle: rebuilt through __init__
        return type(self), self._record_values

    def _replace(self, **changes: Any) -> Self:
        """A copy with ``changes`` applied, as NamedTuple's ``_replace``."""
        return type(self)(**{**self._asdict(), **changes})

    def _asdict(self) -> dict[str, Any]:
        """The fields and their values, in field order."""
        return dict(zip(self._fields, self._record_values, strict=True))


def _field(index: int, name: str) -> property:
    """The read-only property of field ``index``."""
    return property(lambda record: record._record_values[index], doc=f"field {index}, {name}")


def _is_class_variable(annotation: object) -> bool:
    """True for ``ClassVar[...]``, as text (the usual case here) or evaluated."""
    if isinstance(annotation, str):
        return annotation.startswith(("ClassVar", "typing.ClassVar"))
    return getattr(annotation, "__origin__", annotation) is ClassVar
