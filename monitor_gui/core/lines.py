"""Fast decoding of recording lines that hold a dispatch (msgspec), as strict as wire.

``wire.event_from_dict`` validates field by field in Python (~10 µs per dispatch). Here
msgspec decodes and validates a dispatch line in C against typed Structs built from the
same rules; a line it rejects (any other kind, anything unusual or invalid) returns None
and the reader falls back to ``wire.event_from_dict``, so the verdict on a bad line is
always wire's. tests/monitor_gui/core/test_recording.py checks that both agree.
"""

# No "from __future__ import annotations": msgspec reads the Struct annotations at class
# creation, and they refer to local aliases (text, count) that must be evaluated eagerly.
from typing import Annotated, Any, Literal

from django_probe import wire

try:
    import msgspec
except ImportError:  # pragma: no cover - the reader then uses wire.event_from_dict only
    msgspec = None  # type: ignore[assignment]


def _decoder() -> Any:
    if msgspec is None:
        return None
    text = Annotated[str, msgspec.Meta(max_length=wire.MAX_STR)]
    count = Annotated[int, msgspec.Meta(ge=0)]

    class Site(msgspec.Struct):
        file: text
        line: int
        func: text

    class Request(msgspec.Struct):
        id: text
        method: text
        path: text

    class Call(msgspec.Struct):
        name: text
        module: text
        file: text
        line: int
        is_async: bool
        dur: count
        outcome: Literal[wire.OUTCOMES]  # type: ignore[valid-type]
        value: text | None
        exc_type: text | None
        exc_msg: text | None

    class Proc(msgspec.Struct):
        pid: int
        host: text
        boot: text

    class DispatchLine(msgspec.Struct):
        kind: Literal["D"]
        ts: int
        id: int
        parent: int | None
        signal: text
        sender: text
        method: Literal[wire.METHODS]  # type: ignore[valid-type]
        dur: count
        thread: text
        tid: int
        site: Site | None
        request: Request | None
        kwargs: dict[text, text]
        receivers: Annotated[list[Call], msgspec.Meta(max_length=wire.MAX_ITEMS)]
        raised: bool
        proc: Proc
        seq: count

    return msgspec.json.Decoder(DispatchLine)


_DECODER = _decoder()


def decode_dispatch_line(line: str) -> "tuple[wire.Proc, int, wire.Dispatch] | None":
    """(proc, seq, dispatch) for a valid dispatch line, or None to let wire decide."""
    if _DECODER is None:
        return None
    try:
        d = _DECODER.decode(line)
    except Exception:  # any other kind of line, or anything invalid: the slow path judges
        return None
    site, req = d.site, d.request
    event = wire.Dispatch(
        d.kind, d.ts, d.id, d.parent, d.signal, d.sender, d.method, d.dur, d.thread, d.tid,
        None if site is None else wire.CallSite(site.file, site.line, site.func),
        None if req is None else wire.RequestInfo(req.id, req.method, req.path),
        d.kwargs,
        [wire.ReceiverCall(r.name, r.module, r.file, r.line, r.is_async, r.dur, r.outcome,
                           r.value, r.exc_type, r.exc_msg) for r in d.receivers],
        d.raised,
    )
    return wire.Proc(d.proc.pid, d.proc.host, d.proc.boot), d.seq, event
