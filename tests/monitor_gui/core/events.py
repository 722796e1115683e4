"""Builders of valid wire events for monitor-core tests (always via wire NamedTuples)."""

from __future__ import annotations

from django_probe import wire

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
             thread: str = "MainThread") -> wire.Dispatch:
    return wire.Dispatch(
        wire.KIND_DISPATCH, 1_700_000_000_000_000_000 + id * 1000 if ts is None else ts, id,
        parent, signal, sender, method, dur, thread, 4242,
        wire.CallSite("app/views.py", 33, "signup"),
        None if request is None else wire.RequestInfo(request, "POST", "/signup/"),
        {"created": "True", "instance": f"<User: u{id}>"} if kwargs is None else kwargs,
        [receiver()] if receivers is None else receivers, raised,
    )


def heartbeat(dropped_queue: int = 0, dropped_send: int = 0, ts: int = 1, *,
              captured: int = 10, sent: int = 0) -> wire.Heartbeat:
    # ``sent`` is the heartbeat's own sequence number: the monitor checks it against the
    # numbers it received, so the default (0) is plausible wherever the heartbeat is.
    return wire.Heartbeat(wire.KIND_HEARTBEAT, ts, captured, sent, dropped_queue,
                          dropped_send, 0, 1000)


def frame(events: list, seq: int = 0, proc: wire.Proc = PROC) -> bytes:
    return wire.encode_frame(proc, seq, events)
