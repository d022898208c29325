"""Shrinking a parsed config for its life in the exporter: equal values are stored once.

The exporter keeps its config for as long as it runs. As validated, every model has a dict
and a fields set of its own, and every target its own copy of each string from the file and of
each default (`tls: {}`, `valid_status_codes: [2xx]`, empty headers and labels): 3.4 KB for a
plain HTTP target, 34 MB for 10,000. Compacted, such a target takes about 0.6 KB.

Sharing is safe because the exporter never changes a parsed config in place: a reload parses
a new one, a shard or a test takes a model_copy(update=...). What is shared: strings, fields
sets (a model gets its own on assignment, see SharedFieldsSet), lists and dicts of scalars,
and models of scalars only (such as the default TLSSettings): code must not change these.
"""

from __future__ import annotations

import re
from pathlib import PurePath
from typing import Any, NoReturn, TypeVar

from pydantic import BaseModel

M = TypeVar("M", bound=BaseModel)

_SCALARS = (str, int, float, bool, type(None), PurePath, re.Pattern)


class SharedFieldsSet(set[str]):
    """The fields set of every model of a parsed config that set the same fields; read-only.

    A set, not a frozenset: pydantic-core wants a set (model_dump(exclude_unset=True)). A
    model gets a set of its own before a field is assigned (StrictModel.__setattr__) and a
    copy of it gets an ordinary set, which model_copy(update=...) updates; changing the
    shared set itself would mark a field as set in every model sharing it, so it refuses.
    """

    __slots__ = ()

    def _refuse(self, *args: object) -> NoReturn:
        raise TypeError("the models of a parsed config share their fields sets: copy it first")

    add = discard = remove = pop = clear = update = _refuse
    difference_update = intersection_update = symmetric_difference_update = _refuse
    __ior__ = __iand__ = __isub__ = __ixor__ = _refuse

    def __copy__(self) -> set[str]:
        return set(self)

    def __deepcopy__(self, memo: dict[int, Any]) -> set[str]:
        return set(self)


def unshare_fields_set(model: BaseModel) -> None:
    """Give `model` a fields set of its own, for pydantic to add a field being assigned."""
    fields_set = getattr(model, "__pydantic_fields_set__", None)
    if type(fields_set) is SharedFieldsSet:
        object.__setattr__(model, "__pydantic_fields_set__", set(fields_set))


def compact(model: M) -> M:
    """An equal model whose equal strings, fields sets, settings and containers are shared."""
    return _Compactor().model(model)


class _Compactor:
    """One per parse: remembers the first of each value, for the equal ones to share."""

    def __init__(self) -> None:
        self._scalars: dict[tuple[Any, ...], Any] = {}
        self._fields_sets: dict[frozenset[str], SharedFieldsSet] = {}
        self._values: dict[tuple[Any, ...], Any] = {}

    def model(self, model: M) -> M:
        fields = {name: self.value(value) for name, value in model.__dict__.items()}
        fields_set = self._fields_set(model.__pydantic_fields_set__)
        key = _value_key(model, fields, fields_set)
        if key is not None and key in self._values:
            shared: M = self._values[key]
            return shared
        rebuilt = _rebuilt(model, fields, fields_set)
        if key is not None:
            self._values[key] = rebuilt
        return rebuilt

    def value(self, value: Any) -> Any:
        if type(value) in (str, float, int):
            return self._scalar(value)
        if type(value) in (list, dict):
            return self._container(value)
        if isinstance(value, _SCALARS):  # most fields: ruled out before the slower ABC check
            return value
        if isinstance(value, BaseModel):
            return self.model(value)
        return value

    def _scalar(self, value: str | float | int) -> Any:
        key = _scalar_key(value)
        kept = self._scalars.get(key)
        if kept is None:
            kept = self._scalars[key] = _fresh(value)
        return kept

    def _container(self, value: list[Any] | dict[Any, Any]) -> Any:
        items: list[Any] | dict[Any, Any]
        if isinstance(value, list):
            items = [self.value(item) for item in value]
        else:
            items = {self.value(k): self.value(v) for k, v in value.items()}
        flat = items if isinstance(items, list) else [x for pair in items.items() for x in pair]
        if not all(isinstance(x, _SCALARS) for x in flat):
            return items
        # Read-only like every part of a parsed config, so equal ones can be one object.
        return self._values.setdefault((type(items), *map(_scalar_key, flat)), items)

    def _fields_set(self, fields: set[str]) -> SharedFieldsSet:
        key = frozenset(fields)
        shared = self._fields_sets.get(key)
        if shared is None:
            shared = self._fields_sets[key] = SharedFieldsSet(fields)
        return shared


def _value_key(
    model: BaseModel, fields: dict[str, Any], fields_set: SharedFieldsSet
) -> tuple[Any, ...] | None:
    """What an equal model has in common with this one, if it holds scalars only."""
    if model.__pydantic_extra__ or getattr(model, "__pydantic_private__", None) is not None:
        return None  # e.g. a SecretSource's resolved value
    if not all(isinstance(v, _SCALARS) for v in fields.values()):
        return None
    # Fields sets are shared already: one per set of names, so its id stands for the names.
    return (type(model), id(fields_set), *((k, *_scalar_key(v)) for k, v in fields.items()))


def _fresh(value: str | float | int) -> Any:
    """An equal copy made now, not the object the parse made.

    The parse peaks at about 7 KB per target (YAML nodes, raw data, validated models). A
    string or number kept from it pins its memory page, and the allocator can hand back
    no page that holds a survivor: kept as is, the scattered survivors held most of the
    peak resident (bench/memory.py); copied here, after the peak, they sit together.
    """
    if type(value) is str:
        return (value + " ")[:-1] if value else value
    if type(value) is float:
        return float.fromhex(value.hex())
    if type(value) is int and not -5 <= value <= 256:  # CPython's own small ints are shared
        return int(str(value))
    return value


def _scalar_key(value: Any) -> tuple[Any, ...]:
    """Equal for interchangeable values only, unlike 1 == 1.0 == True and -0.0 == 0.0."""
    if type(value) is float:
        return (float, value.hex())
    return (type(value), value)


def _rebuilt(model: M, fields: dict[str, Any], fields_set: SharedFieldsSet) -> M:
    """A new instance of the model's class holding `fields`, its attributes in the compact layout.

    pydantic gives every instance a dict of its own: 830 bytes for a Target's 22 fields.
    Attributes set one at a time on a bare instance are stored as CPython stores a plain
    object's, with keys shared by every instance of the class (PEP 412): about 250 bytes.
    3.11 and 3.12 only share keys a class had before its first few instances, hence
    share_attribute_keys. The slots are set as BaseModel.__copy__ sets them.
    """
    cls = type(model)
    rebuilt = cls.__new__(cls)
    for name, value in fields.items():
        object.__setattr__(rebuilt, name, value)
    object.__setattr__(rebuilt, "__pydantic_fields_set__", fields_set)
    object.__setattr__(rebuilt, "__pydantic_extra__", model.__pydantic_extra__)
    private = getattr(model, "__pydantic_private__", None)
    object.__setattr__(rebuilt, "__pydantic_private__", private)
    return rebuilt


def restore_compactly(model: BaseModel, state: dict[Any, Any]) -> None:
    """pydantic's __setstate__, but with the attributes in the compact layout (see _rebuilt).

    The exporter receives its config pickled from the child process that parsed it
    (exporter/config/isolated.py); pickle keeps what compaction shared, this keeps the layout.
    """
    for name, value in state["__dict__"].items():
        object.__setattr__(model, name, value)
    object.__setattr__(model, "__pydantic_fields_set__", state["__pydantic_fields_set__"])
    object.__setattr__(model, "__pydantic_extra__", state["__pydantic_extra__"])
    object.__setattr__(model, "__pydantic_private__", state["__pydantic_private__"])


def share_attribute_keys(cls: type[BaseModel]) -> None:
    """Make the field names the keys every instance of `cls` shares; call before any instance.

    CPython 3.11 and 3.12 stop adding keys to a class's shared table once some 30 instances
    exist, and the instances pydantic validates never add any: without this, the instances
    compaction rebuilds would each get a dict of their own after all.
    """
    bare = cls.__new__(cls)
    for name in cls.model_fields:
        object.__setattr__(bare, name, None)
