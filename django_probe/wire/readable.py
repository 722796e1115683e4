"""The readable forms of an event: its self-describing dict, and NamedTuples from plain tuples."""

from __future__ import annotations

import typing
from typing import Any

import msgspec

from .base import WireError
from .codec import decode_event, decode_raw_event, pack_event
from .events import (
    EVENT_TYPES,
    CallSite,
    ConnectedReceiver,
    EmptyCount,
    Event,
    MutedCount,
    ReceiverCall,
    RequestInfo,
    SignalWiring,
    TxContext,
)


def _to_plain(value: Any) -> Any:
    if isinstance(value, tuple) and hasattr(value, "_asdict"):
        return {k: _to_plain(v) for k, v in value._asdict().items()}
    if isinstance(value, list):
        return [_to_plain(v) for v in value]
    return value


def event_to_dict(event: Event) -> dict[str, Any]:
    """The self-describing form used by JSON Lines recordings and the docs."""
    return _to_plain(event)


def _nested(hint: Any) -> Any:
    """The NamedTuple inside a field's annotation (Optional, list or Annotated), if any."""
    if hasattr(hint, "_fields"):
        return hint
    for arg in typing.get_args(hint):
        found = _nested(arg)
        if found is not None:
            return found
    return None


# For each event type and the NamedTuples inside it: field -> the NamedTuple it holds.
_INNER: dict[type, dict[str, Any]] = {}
for _cls in (*EVENT_TYPES.values(), CallSite, RequestInfo, ReceiverCall, EmptyCount,
             ConnectedReceiver, SignalWiring, TxContext, MutedCount):
    _INNER[_cls] = {f: _nested(h) for f, h in typing.get_type_hints(_cls).items()}


def _positional(cls: Any, value: Any) -> Any:
    """``value`` (a dict of ``cls``'s fields, or already positional) in field order."""
    if isinstance(value, list):
        return [_positional(cls, v) for v in value]
    if isinstance(value, dict) and cls is not None:
        inner, defaults = _INNER[cls], cls._field_defaults
        # A field missing from an older recording reads as its default, if it has one.
        return [_positional(inner[f], value[f]) if f in value else defaults.get(f)
                for f in cls._fields]
    return value


def event_from_dict(d: dict[str, Any]) -> Event:
    """Inverse of event_to_dict, validated exactly like an event from the wire."""
    if not isinstance(d, dict) or d.get("kind") not in EVENT_TYPES:
        raise WireError("not an event object")
    return decode_event(_positional(EVENT_TYPES[d["kind"]], d))


def typed(event: Any) -> Event:
    """Validate an event built as plain tuples (as the probe's hot path builds them) and
    return it as the NamedTuples of events.py, exactly as the monitor would decode it."""
    try:
        packed = pack_event(event)
    except (TypeError, OverflowError) as exc:
        raise WireError(f"not packable: {type(exc).__name__}") from None
    return decode_raw_event(msgspec.Raw(packed))
