"""Builders of valid wire events and frames for monitor-core tests (always via wire NamedTuples;
protocol 2 frames with interned names through ``Interning``)."""

from __future__ import annotations

import typing
from collections.abc import Callable
from typing import Any

from django_probe import wire
from django_probe.strings import Interner

PROC = wire.Proc(101, "web1", "boot-a")
OTHER = wire.Proc(202, "web2", "boot-b")


def receiver(name: str = "create_profile", module: str = "accounts.receivers",
             dur: int = 1_000, outcome: str = wire.RETURNED, value: str | None = "None",
             exc: tuple[str, str] | None = None) -> wire.ReceiverCall:
    exc_type, exc_msg = exc if exc else (None, None)
    if outcome == wire.RAISED:
        value = None
        exc_type = exc_type or "builtins.ValueError"
        exc_msg = exc_msg or "boom"
    if outcome == wire.SKIPPED:
        value, dur = None, 0
    return wire.ReceiverCall(name, module, f"{module.replace('.', '/')}.py", 12, False, dur,
                             outcome, value, exc_type, exc_msg)


def dispatch(id: int, *, ts: int | None = None, parent: int | None = None,
             signal: str = "django.db.models.signals.post_save", sender: str = "auth.User",
             dur: int = 5_000, receivers: list[wire.ReceiverCall] | None = None,
             raised: bool = False, request: str | None = "req-1",
             kwargs: dict[str, str] | None = None, method: str = "send",
             thread: str = "MainThread", tx: wire.TxContext | None = None) -> wire.Dispatch:
    return wire.Dispatch(
        wire.KIND_DISPATCH, 1_700_000_000_000_000_000 + id * 1000 if ts is None else ts, id,
        parent, signal, sender, method, dur, thread, 4242,
        wire.CallSite("app/views.py", 33, "signup"),
        None if request is None else wire.RequestInfo(request, "POST", "/signup/"),
        {"created": "True", "instance": f"<User: u{id}>"} if kwargs is None else kwargs,
        [receiver()] if receivers is None else receivers, raised, tx,
    )


def heartbeat(dropped_queue: int = 0, dropped_send: int = 0, ts: int = 1, *,
              captured: int = 10, sent: int = 0) -> wire.Heartbeat:
    # ``sent`` is the heartbeat's own sequence number: the monitor checks it against the
    # numbers it received, so the default (0) is plausible wherever the heartbeat is.
    return wire.Heartbeat(wire.KIND_HEARTBEAT, ts, captured, sent, dropped_queue,
                          dropped_send, 0, 1000)


def frame(events: list, seq: int = 0, proc: wire.Proc = PROC) -> bytes:
    return wire.encode_frame(proc, seq, events)


# --------------------------------------------------------------------------- protocol 2


def _inner(hint: Any) -> type | None:
    """The NamedTuple inside an annotation (optional, list, Annotated), if any."""
    if hasattr(hint, "_fields"):
        return hint
    return next(filter(None, map(_inner, typing.get_args(hint))), None)


_FIELDS: dict[type, tuple[dict[str, bool], dict[str, type]]] = {}


def _learn(cls: type) -> None:
    """Which fields of a wire NamedTuple are Refs, and which hold NamedTuples (from its
    annotations: the one definition)."""
    refs, nested = {}, {}
    _FIELDS[cls] = (refs, nested)
    for name, hint in typing.get_type_hints(cls, include_extras=True).items():
        refs[name] = wire.StringId in typing.get_args(hint)
        inner = _inner(hint)
        if inner is not None:
            nested[name] = inner
            if inner not in _FIELDS:
                _learn(inner)


for _cls in wire.EVENT_TYPES.values():
    _learn(_cls)


def interned(value: Any, ref: Callable[[str], int | str]) -> Any:
    """``value`` (a wire NamedTuple or a list of them) with every name a Ref id from ``ref``."""
    if isinstance(value, list):
        return [interned(v, ref) for v in value]
    if value is None:
        return None
    refs, nested = _FIELDS[type(value)]
    changes = {}
    for name in value._fields:
        v = getattr(value, name)
        if refs[name] and type(v) is str:
            changes[name] = ref(v)
        elif name in nested:
            changes[name] = interned(v, ref)
    return value._replace(**changes)


class Interning:
    """Frames of one process as the probe sends them in protocol 2: names as ids, each new
    name defined by a Strings event in a frame of its own before the first frame using it."""

    def __init__(self, proc: wire.Proc = PROC, seq: int = 0) -> None:
        self.proc = proc
        self.seq = seq
        self.interner = Interner()
        self.defined = 0  # ids already sent in Strings events

    def frames(self, events: list) -> list[bytes]:
        """The Strings frame for new names (if any), then the frame of ``events``."""
        ids = [interned(e, self.interner.ref) for e in events]
        out = []
        new = self.interner.definitions(self.defined)
        self.defined = len(self.interner.values)
        if new:
            out.append(self.frame(new))
        out.append(self.frame(ids))
        return out

    def frame(self, events: list) -> bytes:
        data = wire.encode_frame(self.proc, self.seq, events)
        self.seq += len(events)
        return data

    def definitions(self) -> bytes:
        """A frame defining every id again (the probe's periodic resend)."""
        return self.frame(self.interner.definitions())
