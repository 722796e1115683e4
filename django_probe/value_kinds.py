"""Which branch of ``Describer._value`` a class takes, decided once per class from the
class alone (a walk of up to a dozen ``issubclass()`` checks; ``describe`` caches it)."""

from __future__ import annotations

import datetime
import decimal
import enum
import pathlib
import types
import uuid
import weakref
from typing import Any

from django.db.models.query import QuerySet
from django.utils.functional import LazyObject, Promise

from .introspect import class_name, instance_dict_getter, model_facts

_EXACT_REPR = frozenset({  # exact types whose repr is CPython's or the stdlib's own code
    int, bool, type(None), float, complex, decimal.Decimal, uuid.UUID, datetime.date,
    datetime.timedelta, datetime.timezone, range, pathlib.PurePath, pathlib.PurePosixPath,
    pathlib.PureWindowsPath, pathlib.Path, pathlib.PosixPath, pathlib.WindowsPath})
_EXACT_CONTAINERS = frozenset({list, tuple, set, frozenset})
# The branches (compared with "is").
REPR, DATETIME, ENUM, NUMBER, STR_SUBCLASS, BYTES, TYPE, LAZY, PROMISE = (
    "repr", "datetime", "enum", "number subclass", "str subclass", "bytes", "type",
    "lazy object", "promise")
EXCEPTION, REQUEST, QUERYSET, SIZED, SEQUENCE, FUNCTION, OTHER = (
    "exception", "request", "queryset", "sized", "sequence", "function", "other")


def classify(cls: type) -> tuple[Any, str, Any, Any]:
    """(weakref to cls, branch of ``Describer._value``, model facts if cls has a _meta and
    its instances a plain ``__dict__``, branch data). Reads only classes (``introspect``)."""
    model, data = None, None
    if cls in _EXACT_REPR:
        kind = REPR
    elif cls is datetime.datetime or cls is datetime.time:
        kind = DATETIME  # (their repr shows the tzinfo's repr)
    elif issubclass(cls, enum.Enum):
        kind, data = ENUM, instance_dict_getter(cls)
    elif issubclass(cls, str):
        kind = STR_SUBCLASS
    elif cls in _EXACT_CONTAINERS:
        kind = SEQUENCE
    elif issubclass(cls, (dict, list, tuple, set, frozenset, bytes, bytearray, memoryview)):
        kind = SIZED
        data = next(base.__len__ for base in (dict, list, tuple, set, frozenset, bytes,
                                              bytearray, memoryview) if issubclass(cls, base))
    elif issubclass(cls, (int, float, complex)):  # (bool is final; enums are above)
        kind = NUMBER
        data = next(base.__repr__ for base in (int, float, complex) if issubclass(cls, base))
    elif issubclass(cls, type):
        kind = TYPE
    elif issubclass(cls, Promise):
        kind = PROMISE
    else:
        data = instance_dict_getter(cls)
        if issubclass(cls, LazyObject):
            kind = LAZY
        elif issubclass(cls, BaseException):
            kind = EXCEPTION
        elif class_name(cls) in ("WSGIRequest", "ASGIRequest", "HttpRequest"):
            kind = REQUEST
        elif issubclass(cls, QuerySet):
            kind = QUERYSET
        elif cls is types.FunctionType or cls is types.MethodType:
            kind = FUNCTION
        else:
            kind = OTHER
        # A model instance (class with _meta, instance with _state) wins over the kind.
        facts = model_facts(cls)
        if facts is not None and data is not None:
            model = (facts[0], facts[1], data)
        if data is None and kind in (LAZY, REQUEST, QUERYSET):
            kind = OTHER  # no plain instance __dict__ to read them from
    # A weak reference: a dynamically created class stays collectable (and its id
    # reusable: the reference is checked on every hit).
    return (weakref.ref(cls), kind, model, data)
