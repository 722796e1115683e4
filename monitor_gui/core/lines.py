"""Fast decoding of recording lines that hold a dispatch (msgspec), derived from wire's definition.

A recording line is an event in its self-describing form (``wire.event_to_dict``) plus
``proc`` and ``seq``. Here msgspec decodes and validates a dispatch line in C against
Structs derived from ``wire.Dispatch``'s own annotations (same fields, same rules: a
field of names takes a Ref, the string or an id, exactly as on the wire), then returns
the NamedTuples. A line it rejects (any other kind, a missing field, anything invalid)
returns None and the reader falls back to ``wire.event_from_dict``, so the verdict on a
bad line is always wire's.
"""

from __future__ import annotations

import functools
import operator
import typing
from collections.abc import Callable
from typing import Annotated, Any

import msgspec
from msgspec.structs import astuple

from django_probe import wire

_new = tuple.__new__


def _struct_hint(hint: Any, structs: dict[type, Any]) -> Any:
    """``hint`` with each wire NamedTuple in it replaced by its derived Struct."""
    if hasattr(hint, "_fields"):
        return _derive(hint, structs)
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin is Annotated:
        return Annotated[(_struct_hint(args[0], structs), *hint.__metadata__)]
    if origin is list:
        return list[_struct_hint(args[0], structs)]  # type: ignore[misc]
    if args and origin in (typing.Union, type(int | None)):
        return functools.reduce(operator.or_, (_struct_hint(a, structs) for a in args))
    return hint


def _derive(cls: Any, structs: dict[type, Any]) -> Any:
    """The msgspec Struct (a JSON object) with ``cls``'s fields and rules."""
    if cls not in structs:
        hints = typing.get_type_hints(cls, include_extras=True)
        # As in wire.event_from_dict, a missing field reads as null (or as the field's
        # default): a recording made before a field was added still decodes here.
        defaults = {f: None for f in cls._fields if _allows_none(hints[f])}
        defaults.update(cls._field_defaults)
        structs[cls] = msgspec.defstruct(
            f"{cls.__name__}Line",
            [(f, _struct_hint(hints[f], structs), defaults[f]) if f in defaults
             else (f, _struct_hint(hints[f], structs)) for f in cls._fields], kw_only=True)
    return structs[cls]


def _allows_none(hint: Any) -> bool:
    if hint is None or hint is type(None):
        return True
    args = typing.get_args(hint)
    if typing.get_origin(hint) is Annotated:
        return _allows_none(args[0])
    return typing.get_origin(hint) in (typing.Union, type(int | None)) and any(
        map(_allows_none, args))


def _converter(cls: Any, plain: bool = False) -> Callable[[Any], Any]:
    """Struct (derived from ``cls``) -> ``cls``, nested NamedTuples included; with
    ``plain``, exact tuples in the same field order (what the monitor's columns are made
    from, ~0.6 µs a line cheaper: see ``decode_dispatch_line``).

    ``tuple.__new__(cls, values)`` is what ``cls._make`` does, without its Python frame
    and length check (the Struct has the fields, in order): a recording of 1M dispatches
    makes about 4M of these.
    """
    hints = typing.get_type_hints(cls, include_extras=True)
    nested = []
    for i, name in enumerate(cls._fields):
        inner = _inner(hints[name])
        if inner is not None:
            nested.append((i, _converter(inner, plain), _is_list(hints[name])))
    n = len(cls._fields)
    if not nested:
        return astuple if plain else lambda s: _new(cls, astuple(s))

    def convert(s: Any) -> Any:
        values = list(astuple(s)[:n])  # a line's Struct has proc and seq after the fields
        for i, conv, many in nested:
            v = values[i]
            if v is not None:
                values[i] = [conv(x) for x in v] if many else conv(v)
        return tuple(values) if plain else _new(cls, values)

    return convert


def _is_list(hint: Any) -> bool:
    return typing.get_origin(hint) is list or any(map(_is_list, typing.get_args(hint)))


def _inner(hint: Any) -> Any:
    if hasattr(hint, "_fields"):
        return hint
    return next(filter(None, map(_inner, typing.get_args(hint))), None)


_STRUCTS: dict[type, Any] = {}
_DispatchStruct = _derive(wire.Dispatch, _STRUCTS)
_ProcStruct = _derive(wire.Proc, _STRUCTS)
DispatchLine = msgspec.defstruct(
    "DispatchLine", [("proc", _ProcStruct), ("seq", Annotated[int, msgspec.Meta(ge=0)])],
    bases=(_DispatchStruct,), kw_only=True)  # after fields with defaults
_DECODE = msgspec.json.Decoder(DispatchLine).decode
_DISPATCH = _converter(wire.Dispatch)
_PLAIN_DISPATCH = _converter(wire.Dispatch, plain=True)


def decode_dispatch_line(line: str | bytes, plain: bool = False
                         ) -> tuple[wire.Proc, int, wire.Dispatch] | None:
    """(proc, seq, dispatch) for a valid dispatch line, or None to let wire decide.

    With ``plain`` the dispatch and the tuples in it are exact tuples in wire's field
    order, not NamedTuples: ``MonitorState.apply`` reads them by position only, and a
    window opening a recording makes millions of them.
    """
    try:
        d = _DECODE(line)
    except (msgspec.DecodeError, RecursionError):  # other kinds, anything invalid: wire judges
        return None
    return wire.Proc(*astuple(d.proc)), d.seq, (_PLAIN_DISPATCH if plain else _DISPATCH)(d)
