"""The frame codec: events packed into frames, and untrusted frames decoded and validated."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Annotated, Any, Literal

import msgspec

from .base import MAGIC, MAX_EVENTS_PER_FRAME, MAX_FRAME_BYTES, PROTOCOL_VERSION, Count, WireError
from .events import EVENT_TYPES, Dispatch, Event, Frame, Proc

# --------------------------------------------------------------------------- encoding


def _plain(value: Any) -> Any:
    # msgspec packs exact types only; a str subclass (a SafeString) or an IntEnum packs as
    # its base type, like msgpack-python did. Anything else is not plain data.
    if isinstance(value, str):
        return "".join((value,))  # an exact copy: str(SafeString) is the SafeString itself
    for base in (int, float, bytes, tuple, list, dict):
        if isinstance(value, base):
            return base(value)
    raise TypeError(f"not plain data: {type(value).__name__}")


# One encoder for every thread: Encoder.encode() holds the GIL throughout and allocates
# its output per call, so it keeps no state between calls.
_pack = msgspec.msgpack.Encoder(enc_hook=_plain).encode

# pack_event(event) -> bytes: one event (a NamedTuple of events.py or a plain tuple in its
# order) packed on its own. The probe packs each event as it queues it: a queue of ``bytes``
# holds nothing the cyclic GC must scan, and ``frame_of`` joins packed events into a frame
# without packing them again. Raises TypeError/OverflowError for what is not plain data.
pack_event: Callable[[Any], bytes] = _pack


def _array_header(n: int) -> bytes:
    if n < 16:
        return bytes((0x90 | n,))  # fixarray
    if n < 0x10000:
        return b"\xdc" + n.to_bytes(2, "big")  # array 16
    return b"\xdd" + n.to_bytes(4, "big")  # array 32


def frame_of(proc: Proc, seq: int, packed: Sequence[bytes]) -> bytes:
    """The frame holding already packed events: byte for byte what ``encode_frame``
    makes of the same events (a msgpack array is its header followed by its items)."""
    head = _pack((MAGIC, PROTOCOL_VERSION, proc, seq))  # fixarray of 4: 0x94 ...
    return b"".join((b"\x95", head[1:], _array_header(len(packed)), *packed))


def encode_frame(proc: Proc, seq: int, events: Sequence[Any]) -> bytes:
    """Pack one frame. ``seq`` numbers the first event; the next frame of the process
    starts at ``seq + len(events)``, so the monitor can count events lost in transit."""
    return frame_of(proc, seq, [_pack(event) for event in events])


# --------------------------------------------------------------------------- decoding

_Magic = Literal["dsm"]
# The envelope first: what identifies the sender and the protocol, events left undecoded.
_Envelope = tuple[_Magic, Any, Any, Any,
                  Annotated[list[msgspec.Raw], msgspec.Meta(max_length=MAX_EVENTS_PER_FRAME)]]
_envelope = msgspec.msgpack.Decoder(_Envelope)
_proc = msgspec.msgpack.Decoder(Proc)
# The common frame, in one call: dispatches only (the publisher sends strings, heartbeats
# and snapshots in frames of their own when the stream is busy).
DispatchFrame = tuple[_Magic, Literal[PROTOCOL_VERSION], Proc, Count,  # type: ignore[valid-type]
                      Annotated[list[Dispatch], msgspec.Meta(max_length=MAX_EVENTS_PER_FRAME)]]
dispatch_frame = msgspec.msgpack.Decoder(DispatchFrame)
_event_decoders = {kind.encode(): msgspec.msgpack.Decoder(cls)
                   for kind, cls in EVENT_TYPES.items()}


def version_error(version: object) -> str | None:
    """Why a frame of protocol ``version`` cannot be read here (naming both versions), or
    None when it is exactly ours. Only the int itself is ours: ``1.0`` and ``True`` are not."""
    if type(version) is int and version == PROTOCOL_VERSION:
        return None
    if type(version) is not int:
        return (f"bad protocol version {version!r:.20} from the probe: this monitor speaks "
                f"{PROTOCOL_VERSION} (an integer)")
    shown = str(version) if abs(version) < 10**12 else f"{str(version)[:12]}…"
    fix = ("upgrade the monitor (pip install -U 'django-signal-monitor[monitor]')"
           if version > PROTOCOL_VERSION else
           "upgrade django-signal-monitor in the Django project, or use a monitor of its version")
    return f"protocol version {shown} from the probe, this monitor speaks {PROTOCOL_VERSION}: {fix}"


def _kind_of(raw: msgspec.Raw) -> bytes:
    # An event is an array whose first item is a one-letter string: fixarray or array16
    # header, then 0xa1 and the letter.
    b = memoryview(raw)
    start = 1 if b[0] & 0xF0 == 0x90 else 3
    return bytes(b[start + 1:start + 2]) if b[start:start + 1] == b"\xa1" else b""


def decode_raw_event(raw: msgspec.Raw) -> Event:
    """Validate one packed event against its definition; WireError if it is none."""
    decoder = _event_decoders.get(_kind_of(raw))
    if decoder is None:
        raise WireError("not an event of this protocol")
    try:
        return decoder.decode(raw)
    except msgspec.DecodeError as exc:
        raise WireError(f"bad event: {exc}") from None
    except RecursionError:  # arrays nested deeper than the interpreter's stack
        raise WireError("bad event: nested too deeply") from None


def decode_frame(data: bytes) -> Frame:
    """Decode and validate one untrusted frame; names stay as sent (ids or strings).

    Raise WireError when the frame as a whole is unusable (not msgpack, wrong magic
    or version, bad process identity). Individual bad events are skipped and counted
    in ``Frame.malformed`` so one bad event does not hide its good neighbours.
    """
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise WireError("frame must be bytes")
    if len(data) > MAX_FRAME_BYTES:
        raise WireError("frame too large")
    try:
        typed = dispatch_frame.decode(data)
    except (msgspec.DecodeError, RecursionError):
        pass
    else:
        return Frame(typed[2], typed[3], typed[4], 0)
    try:
        _magic, version, proc, seq, events = _envelope.decode(data)
    except msgspec.DecodeError as exc:
        raise WireError(f"not a signal-monitor frame: {exc}") from None
    except RecursionError:
        raise WireError("not a signal-monitor frame: nested too deeply") from None
    problem = version_error(version)
    if problem is not None:
        raise WireError(problem)
    try:
        proc = msgspec.convert(proc, Proc)
    except msgspec.ValidationError:
        raise WireError("bad process identity") from None
    if type(seq) is not int or seq < 0:
        raise WireError("bad sequence number")
    out: list[Event] = []
    malformed = 0
    for raw in events:
        try:
            out.append(decode_raw_event(raw))
        except WireError:
            malformed += 1
    return Frame(proc, seq, out, malformed)


def decode_event(value: Any) -> Event:
    """Validate one event given as plain Python data (an array: its kind first)."""
    if type(value) not in (list, tuple) or not value or value[0] not in EVENT_TYPES:
        raise WireError("event must be an array starting with its kind")
    try:
        return msgspec.convert(value, EVENT_TYPES[value[0]])
    except msgspec.ValidationError as exc:
        raise WireError(f"bad event: {exc}") from None
